package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDev(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"dev"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"v1 ItemAdded",
		"refused (rejected)",
		"refused (closed)",
		"refused (not_found)",
		`sku-sales/apple {"sku":"apple","unitsSold":6`,
		"order/cart-2 v1",
		"at v3",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("unexpected logs: %s", errOut.String())
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "Usage") {
		t.Fatalf("no args: exit %d, %q", code, errOut.String())
	}
	if code := run(t.Context(), []string{"bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	out.Reset()
	if code := run(t.Context(), []string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "signal dev") {
		t.Fatalf("help: exit %d, %q", code, out.String())
	}
}
