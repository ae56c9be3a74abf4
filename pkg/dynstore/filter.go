package dynstore

import "encoding/json"

// StreamFilterPattern is the event source mapping's filter for the events
// table's stream (a Lambda FilterCriteria pattern): only inserts of commit
// items reach a projector, since snapshots, tombstones and the items of
// large projection runs share the table. The CDK construct and any other
// deployment tool use it as it is, so the attribute and value it names
// always match what the store writes.
func StreamFilterPattern() string {
	b, _ := json.Marshal(map[string]any{ // cannot fail: strings and slices
		"eventName": []string{"INSERT"},
		"dynamodb": map[string]any{
			"NewImage": map[string]any{attrKind: map[string]any{"S": []string{KindCommit}}},
		},
	})
	return string(b)
}
