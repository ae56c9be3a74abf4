package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/signal"
)

// projectFromFeed feeds the dispatcher from the embedded store's change
// feed, remembering its position in a file so a restart resumes there.
// Delivery is at least once: a batch is retried until the dispatcher takes
// it, and checkpoints make repeats harmless.
func projectFromFeed(ctx context.Context, feed signal.ChangeFeed, posFile string, svc *signal.Service, logger *slog.Logger) error {
	if err := os.MkdirAll(filepath.Dir(posFile), 0o755); err != nil {
		return err
	}
	pos := readPosition(posFile)
	backoff := 100 * time.Millisecond
	for {
		last, n, err := svc.DispatchChanges(ctx, feed, pos, 200)
		if last != pos {
			pos = last
			if werr := os.WriteFile(posFile, []byte(strconv.FormatUint(pos, 10)), 0o644); werr != nil {
				return werr
			}
		}
		var de *signal.DispatchError
		switch {
		case errors.As(err, &de):
			logger.WarnContext(ctx, "projector: batch failed; retrying", "error", err)
			select {
			case <-time.After(backoff):
				backoff = min(2*backoff, 5*time.Second)
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		case err != nil:
			return err
		}
		if n > 0 {
			backoff = 100 * time.Millisecond
		}
		if err := feed.WaitForChange(ctx, pos); err != nil {
			return err
		}
	}
}

// positionFile is where the projector remembers its change-feed position:
// in the data directory, named after the store so that switching stores
// does not resume at a position of another.
func positionFile(o storeOptions) string {
	name := "projector.position"
	if o.postgres != "" {
		sum := sha256.Sum256([]byte(o.postgres))
		name = fmt.Sprintf("projector-postgres-%x.position", sum[:6])
	}
	return filepath.Join(o.dataDir, name)
}

func readPosition(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pos, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return pos
}

// projectFromStream feeds the dispatcher from the events table's
// DynamoDB stream with the Poller.
func projectFromStream(ctx context.Context, st *openedStore, svc *signal.Service, logger *slog.Logger) error {
	arn, err := dynstream.StreamARN(ctx, st.client, st.dyn.Tables().Events)
	if err != nil {
		return err
	}
	p := dynstream.NewPoller(st.streams, dynstream.PollerConfig{StreamARN: arn, Logger: logger})
	return p.Run(ctx, svc.Dispatch)
}
