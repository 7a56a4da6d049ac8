package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// mkdirFor creates the directory a file of path goes into (out/ on a fresh
// clone), so `--capture out/feed.ndjson` works as the README writes it.
func mkdirFor(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	return nil
}
