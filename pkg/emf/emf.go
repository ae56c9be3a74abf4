// Package emf writes CloudWatch Embedded Metric Format lines: JSON log
// lines that CloudWatch Logs turns into metrics, with no API call and no
// agent. A Lambda function prints them to stdout; that is all.
//
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Units used by Signal's metrics.
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
	Bytes        = "Bytes"
)

// Metric is one named value.
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

// Writer emits EMF lines under one namespace with fixed dimensions. Safe
// for concurrent use; each Emit writes one line with one Write call.
type Writer struct {
	mu         sync.Mutex
	w          io.Writer
	namespace  string
	dimensions map[string]string
	now        func() time.Time
}

// New returns a Writer to w (os.Stdout in Lambda). dimensions become both
// the metrics' dimension set and properties of the line (e.g. {"Function": "command"}).
func New(w io.Writer, namespace string, dimensions map[string]string) *Writer {
	return &Writer{w: w, namespace: namespace, dimensions: dimensions, now: time.Now}
}

// Emit writes one line with the metrics and extra properties (searchable
// in Logs Insights, not metrics). Zero metrics write nothing. The error is
// the underlying writer's.
func (e *Writer) Emit(metrics []Metric, properties map[string]any) error {
	if len(metrics) == 0 {
		return nil
	}
	type metricDef struct {
		Name string `json:"Name"`
		Unit string `json:"Unit,omitempty"`
	}
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []metricDef `json:"Metrics"`
	}
	line := make(map[string]any, len(properties)+len(e.dimensions)+len(metrics)+1)
	maps.Copy(line, properties)
	dims := slices.Sorted(maps.Keys(e.dimensions))
	for _, k := range dims {
		line[k] = e.dimensions[k]
	}
	d := directive{Namespace: e.namespace, Dimensions: [][]string{dims}}
	for _, m := range metrics {
		d.Metrics = append(d.Metrics, metricDef{m.Name, m.Unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp":         e.now().UnixMilli(),
		"CloudWatchMetrics": []directive{d},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(append(b, '\n'))
	return err
}
