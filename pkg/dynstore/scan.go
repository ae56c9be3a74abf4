package dynstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/signalforgo/signal/pkg/signal"
)

// ScanCommits reads every commit of the events table with a parallel Scan
// of `segments` segments (1 to 64; 0 means 4), calling fn with each page's
// commits. Pages arrive concurrently from different segments, in no
// particular order: the dispatcher sorts each stream's commits and fills
// gaps, so this is what rebuilding a view from the full log needs, past
// the stream's 24-hour retention. The Scan is strongly consistent.
// The first error (fn's, or a typed store error) stops every segment.
func (s *Store) ScanCommits(ctx context.Context, segments int, fn func(ctx context.Context, commits []signal.Commit) error) error {
	if segments <= 0 {
		segments = 4
	}
	segments = min(segments, 64)
	g, ctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error {
			p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
				TableName:                 aws.String(s.tables.Events),
				Segment:                   aws.Int32(int32(seg)),
				TotalSegments:             aws.Int32(int32(segments)),
				ConsistentRead:            aws.Bool(true),
				FilterExpression:          aws.String("#kind = :commit"),
				ExpressionAttributeNames:  map[string]string{"#kind": attrKind},
				ExpressionAttributeValues: map[string]types.AttributeValue{":commit": str(KindCommit)},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return mapError("dynstore.Scan", signal.StreamID{}, err)
				}
				commits := make([]signal.Commit, 0, len(page.Items))
				for _, item := range page.Items {
					c, err := DecodeCommit(item)
					if err != nil {
						return err
					}
					commits = append(commits, c)
				}
				if len(commits) > 0 {
					if err := fn(ctx, commits); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}
