package emf

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestEmit(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, "Signal", map[string]string{"Function": "command"})
	w.now = func() time.Time { return time.UnixMilli(1700000000123) }
	if err := w.Emit([]Metric{{"Commands", 1, Count}, {"Duration", 2.5, Milliseconds}}, map[string]any{"request_id": "r1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Emit(nil, nil); err != nil || bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("no metrics must write nothing: %q", buf.String())
	}
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function  string
		Commands  float64
		Duration  float64
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	d := line.AWS.CloudWatchMetrics[0]
	if line.AWS.Timestamp != 1700000000123 || d.Namespace != "Signal" || len(d.Dimensions) != 1 || d.Dimensions[0][0] != "Function" ||
		len(d.Metrics) != 2 || d.Metrics[1].Name != "Duration" || d.Metrics[1].Unit != "Milliseconds" ||
		line.Function != "command" || line.Commands != 1 || line.Duration != 2.5 || line.RequestID != "r1" {
		t.Fatalf("line: %s", buf.String())
	}
}
