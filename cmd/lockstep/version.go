package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func init() { register(newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the lockstep version, module and VCS revision",
		Long: `Version prints, from the binary's build information:

  lockstep v1.2.3                        the version: -ldflags "-X main.version=...",
                                         else the module version (go install ...@v1.2.3),
                                         else devel
  module    github.com/lockstep-sim/lockstep v1.2.3
  revision  0123abcd... (modified)       the git commit it was built from; "modified"
                                         when the work tree had uncommitted changes
  committed 2026-12-03T03:00:00Z         that commit's time
  go        go1.26.0 linux/amd64

go build and go install inside a git checkout record the revision; go run
and go test do not, and version then says "revision unknown".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				bi = nil
			}
			writeVersion(cmd.OutOrStdout(), version, bi)
			return nil
		},
	}
}

// versionOf is the version to show: the one set at link time, else the main
// module's (when built by go install ...@version), else "devel".
func versionOf(linked string, bi *debug.BuildInfo) string {
	switch {
	case linked != "":
		return linked
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		return bi.Main.Version
	}
	return "devel"
}

// writeVersion writes the version lines for linked (main.version) and the
// build information bi (nil when the binary has none).
func writeVersion(w io.Writer, linked string, bi *debug.BuildInfo) {
	fmt.Fprintln(w, "lockstep", versionOf(linked, bi))
	settings := map[string]string{}
	module := "unknown"
	goVersion := runtime.Version()
	if bi != nil {
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if bi.Main.Path != "" {
			module = strings.TrimSpace(bi.Main.Path + " " + bi.Main.Version)
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
	}
	fmt.Fprintf(w, "module    %s\n", module)
	switch rev := settings["vcs.revision"]; {
	case rev == "":
		fmt.Fprintln(w, "revision  unknown (built without VCS information: go build or go install in a git checkout records it)")
	default:
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "revision  %s\n", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(w, "committed %s\n", t)
		}
	}
	fmt.Fprintf(w, "go        %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
}
