package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// metadata is a construct path's annotations in a cloud assembly.
type metadata map[string][]struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// printWarnings writes each warning and error annotation of the cloud
// assembly in dir to w, one line each, sorted: "[Warning at /Signal]
// Auth is none: ...". It reads what the CDK CLI reads: each artifact's
// metadata in manifest.json and in its additionalMetadataFile. It returns
// an error only when one of those files cannot be read.
func printWarnings(w io.Writer, dir string) error {
	var manifest struct {
		Artifacts map[string]struct {
			Metadata               metadata `json:"metadata"`
			AdditionalMetadataFile string   `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(dir, "manifest.json"), &manifest); err != nil {
		return err
	}
	var lines []string
	add := func(md metadata) {
		for path, entries := range md {
			for _, e := range entries {
				switch e.Type {
				case "aws:cdk:warning":
					lines = append(lines, fmt.Sprintf("[Warning at %s] %v", path, e.Data))
				case "aws:cdk:error":
					lines = append(lines, fmt.Sprintf("[Error at %s] %v", path, e.Data))
				}
			}
		}
	}
	for _, a := range manifest.Artifacts {
		add(a.Metadata)
		if a.AdditionalMetadataFile != "" {
			var md metadata
			if err := readJSON(filepath.Join(dir, a.AdditionalMetadataFile), &md); err != nil {
				return err
			}
			add(md)
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	return nil
}
