package signal

import (
	"encoding/json"
	"testing"
)

// codecLine is an event of the size of a shopping cart's line.
type codecLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"`
	Note     string `json:"note,omitempty"`
}

// BenchmarkDecodeEvent: one stored payload decoded by an event
// registration, against what the registration did before (encoding/json
// into a new value, boxed), in one binary. A small event allocates only
// its box (short strings are interned by json v2); an 8-byte event below 256 not
// even the box (Go keeps those preallocated), as in BenchmarkRehydrate10k.
func BenchmarkDecodeEvent(b *testing.B) {
	cases := []struct {
		name string
		data []byte
		reg  func([]byte) (any, error)
		v1   func([]byte) (any, error)
	}{
		{"amount", []byte(`{"amount":1000}`), newValueDecoder[codecAmount](), decodeEncodingJSON[codecAmount]},
		{"line", []byte(`{"sku":"SKU-12345","quantity":3,"price":1999}`), newValueDecoder[codecLine](), decodeEncodingJSON[codecLine]},
	}
	for _, c := range cases {
		for _, d := range []struct {
			name string
			fn   func([]byte) (any, error)
		}{{"registration", c.reg}, {"encoding-json", c.v1}} {
			b.Run(c.name+"/"+d.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.fn(c.data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type codecAmount struct {
	Amount int64 `json:"amount"`
}

// decodeEncodingJSON is an event registration's decode before json v2.
func decodeEncodingJSON[E any](b []byte) (any, error) {
	var e E
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	return e, nil
}
