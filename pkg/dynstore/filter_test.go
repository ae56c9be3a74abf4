package dynstore

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestStreamFilterPattern: the pattern keeps exactly commit inserts, and
// names the attribute ItemKind reads.
func TestStreamFilterPattern(t *testing.T) {
	var got, want any
	if err := json.Unmarshal([]byte(StreamFilterPattern()), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["commit"]}}}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filter %s", StreamFilterPattern())
	}
	image := got.(map[string]any)["dynamodb"].(map[string]any)["NewImage"].(map[string]any)
	for attr := range image {
		item := map[string]types.AttributeValue{attr: &types.AttributeValueMemberS{Value: KindCommit}}
		if k := ItemKind(item); k != KindCommit {
			t.Errorf("ItemKind reads %q from an item whose %q is %q: the filter names the wrong attribute", k, attr, KindCommit)
		}
	}
}
