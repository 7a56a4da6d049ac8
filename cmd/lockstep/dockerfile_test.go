package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Dockerfile is never built here (no Docker daemon or registry on the
// development machine), so this test reads it: a small parser for the
// instructions it uses, and checks that the image fits the Kubernetes
// manifests (deploy/k8s). dockerfileProblems returns every mismatch;
// TestDockerfileChecksFail shows that each check fires on a broken copy.

type dfInstr struct {
	cmd  string // upper case
	args string // continuation lines joined
	line int
}

type dfStage struct {
	name   string // AS name, or the stage's index
	base   string
	instrs []dfInstr
}

// parseDockerfile splits a Dockerfile into stages. It knows line
// continuations (a trailing backslash), comment lines (also inside a
// continuation) and global ARGs before the first FROM; not heredocs or a
// changed escape character.
func parseDockerfile(src string) ([]dfStage, error) {
	var stages []dfStage
	var cur strings.Builder
	start := 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := dfInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			f := nonFlags(strings.Fields(in.args))
			if len(f) == 0 {
				return fmt.Errorf("line %d: FROM without an image", in.line)
			}
			st := dfStage{base: f[0], name: strconv.Itoa(len(stages))}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			return nil
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				return fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
			}
			return nil
		}
		s := &stages[len(stages)-1]
		s.instrs = append(s.instrs, in)
		return nil
	}
	for i, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return stages, nil
}

func nonFlags(f []string) []string {
	var out []string
	for _, x := range f {
		if !strings.HasPrefix(x, "--") {
			out = append(out, x)
		}
	}
	return out
}

// execForm parses a JSON-array (exec form) argument list.
func execForm(args string) ([]string, bool) {
	if !strings.HasPrefix(args, "[") {
		return nil, false
	}
	var l []string
	if json.Unmarshal([]byte(args), &l) != nil {
		return nil, false
	}
	return l, true
}

type dfCopy struct {
	from string   // --from stage, "" for the build context
	srcs []string // as written
	dest string   // absolute (WORKDIR applied)
	line int
}

// copies returns a stage's COPY and ADD instructions with absolute targets.
func (s dfStage) copies() []dfCopy {
	var out []dfCopy
	wd := "/"
	for _, in := range s.instrs {
		switch in.cmd {
		case "WORKDIR":
			wd = path.Join(wd, in.args)
		case "COPY", "ADD":
			var from string
			var rest []string
			for _, f := range strings.Fields(in.args) {
				if v, ok := strings.CutPrefix(f, "--from="); ok {
					from = v
				} else if !strings.HasPrefix(f, "--") {
					rest = append(rest, f)
				}
			}
			if l, ok := execForm(strings.Join(rest, " ")); ok {
				rest = l
			}
			if len(rest) < 2 {
				continue
			}
			dest := rest[len(rest)-1]
			if !path.IsAbs(dest) {
				dest = path.Join(wd, dest) + map[bool]string{true: "/"}[strings.HasSuffix(dest, "/")]
			}
			out = append(out, dfCopy{from: from, srcs: rest[:len(rest)-1], dest: dest, line: in.line})
		}
	}
	return out
}

// provider finds the COPY that puts p into the image (the last one wins) and
// the source path it came from. isDir tells whether a source is a directory
// (its contents are copied into the target).
func (s dfStage) provider(p string, isDir func(from, src string) bool) (dfCopy, string, bool) {
	cs := s.copies()
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		d := strings.TrimSuffix(c.dest, "/")
		for _, src := range c.srcs {
			switch {
			case isDir(c.from, src):
				if rel, ok := strings.CutPrefix(p, d+"/"); ok {
					return c, path.Join(src, rel), true
				}
			case strings.HasSuffix(c.dest, "/") || len(c.srcs) > 1: // files into a directory
				if p == path.Join(d, path.Base(src)) {
					return c, src, true
				}
			case p == d:
				return c, src, true
			}
		}
	}
	return dfCopy{}, "", false
}

// contextDirs returns an isDir for provider: a source with a trailing slash,
// or a directory of the build context at repo.
func contextDirs(repo string) func(from, src string) bool {
	return func(from, src string) bool {
		if strings.HasSuffix(src, "/") {
			return true
		}
		if from != "" {
			return false
		}
		fi, err := os.Stat(filepath.Join(repo, filepath.FromSlash(src)))
		return err == nil && fi.IsDir()
	}
}

func (s dfStage) last(cmd string) (dfInstr, bool) {
	for i := len(s.instrs) - 1; i >= 0; i-- {
		if s.instrs[i].cmd == cmd {
			return s.instrs[i], true
		}
	}
	return dfInstr{}, false
}

// dockerignored reports whether .dockerignore keeps p (a context path) out
// of the build context: the last matching pattern decides, a pattern also
// matches everything under a matching directory, and a leading **/ matches
// at any depth.
func dockerignored(ignore, p string) bool {
	match := func(pat, name string) bool {
		if rest, ok := strings.CutPrefix(pat, "**/"); ok {
			segs := strings.Split(name, "/")
			for i := range segs {
				if ok, _ := filepath.Match(rest, strings.Join(segs[i:], "/")); ok {
					return true
				}
			}
			return false
		}
		ok, _ := filepath.Match(pat, name)
		return ok
	}
	p = path.Clean(p)
	ignored := false
	for _, line := range strings.Split(ignore, "\n") {
		pat := strings.TrimSpace(line)
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
		segs := strings.Split(p, "/")
		for i := 1; i <= len(segs); i++ {
			if match(pat, strings.Join(segs[:i], "/")) {
				ignored = !neg
				break
			}
		}
	}
	return ignored
}

// podSpec is what the image must provide for one Job of deploy/k8s.
type podSpec struct {
	name      string
	command   []string
	args      []string
	runAsUser int
	mounts    []string // volume mount paths: not the image's business
}

func readPods(t *testing.T) []podSpec {
	t.Helper()
	var pods []podSpec
	for _, f := range []string{"sweep-job.yaml", "merge-job.yaml"} {
		job := readManifest(t, "../../deploy/k8s/"+f)
		spec := get(t, job, "spec", "template", "spec")
		c := get(t, spec, "containers", 0)
		uid, ok := get(t, spec, "securityContext", "runAsUser").(int)
		require.True(t, ok, "%s: runAsUser is an integer", f)
		p := podSpec{name: f, command: strs(t, get(t, c, "command")), args: strs(t, get(t, c, "args")), runAsUser: uid}
		for _, m := range get(t, c, "volumeMounts").([]any) {
			p.mounts = append(p.mounts, fmt.Sprint(get(t, m, "mountPath")))
		}
		pods = append(pods, p)
	}
	return pods
}

var (
	staticLink = regexp.MustCompile(`-extldflags[= ]+["']?-static\b`)
	goBuildOut = regexp.MustCompile(`\bgo build\b[^&;|]*?\s-o[= ]+(\S+)`)
	goTags     = regexp.MustCompile(`\bgo build\b[^&;|]*?\s-tags[= ]+["']?([\w,]+)`)
)

// dockerfileProblems checks a Dockerfile against the pods that run its image:
// multi-stage; the final stage runs as a numeric non-root USER that is the
// pods' runAsUser; its exec-form ENTRYPOINT is the pods' command; that binary
// is copied from an earlier stage's `go build -o` output, linked statically;
// every image path a pod names (outside its volumes) is copied in from a
// context path that exists under repo and that .dockerignore keeps.
// checked returns the image paths it resolved.
func dockerfileProblems(dockerfile, dockerignore, repo string, pods []podSpec) (problems, checked []string) {
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	stages, err := parseDockerfile(dockerfile)
	if err != nil {
		return []string{err.Error()}, nil
	}
	if len(stages) < 2 {
		bad("multi-stage: want at least 2 FROM stages (build, runtime), have %d", len(stages))
		if len(stages) == 0 {
			return problems, nil
		}
	}
	final := stages[len(stages)-1]
	isDir := contextDirs(repo)

	// non-root
	if u, ok := final.last("USER"); !ok {
		bad("final stage sets no USER (do not rely on the base image's)")
	} else {
		user, _, _ := strings.Cut(u.args, ":")
		uid, err := strconv.Atoi(user)
		switch {
		case user == "root" || (err == nil && uid == 0):
			bad("line %d: USER %s runs as root", u.line, u.args)
		case err != nil:
			bad("line %d: USER %s is not numeric: runAsNonRoot cannot verify a user name", u.line, u.args)
		default:
			for _, p := range pods {
				if p.runAsUser != uid {
					bad("line %d: USER %d, but %s has runAsUser %d", u.line, uid, p.name, p.runAsUser)
				}
			}
		}
	}

	// entrypoint = the pods' command
	e, ok := final.last("ENTRYPOINT")
	entry, exec := execForm(e.args)
	switch {
	case !ok:
		bad("final stage has no ENTRYPOINT")
	case !exec || len(entry) == 0:
		bad("line %d: ENTRYPOINT %s is not exec form (the distroless image has no shell)", e.line, e.args)
	default:
		for _, p := range pods {
			if strings.Join(p.command, "\x00") != strings.Join(entry, "\x00") {
				bad("line %d: ENTRYPOINT %q, but %s runs command %q", e.line, entry, p.name, p.command)
			}
		}
	}

	// the binary: from an earlier stage's static go build
	if len(entry) > 0 {
		c, src, ok := final.provider(entry[0], isDir)
		var from *dfStage
		for i := range stages[:len(stages)-1] {
			if stages[i].name == c.from {
				from = &stages[i]
			}
		}
		switch {
		case !ok:
			bad("no COPY in the final stage provides the entrypoint %s", entry[0])
		case c.from == "" || from == nil:
			bad("line %d: the entrypoint %s is not copied --from an earlier build stage", c.line, entry[0])
		default:
			var build *dfInstr
			for i, in := range from.instrs {
				if m := goBuildOut.FindStringSubmatch(in.args); in.cmd == "RUN" && m != nil && path.Clean(m[1]) == path.Clean(src) {
					build = &from.instrs[i]
				}
			}
			if build == nil {
				bad("line %d: %s is not the go build -o output of stage %s", c.line, src, from.name)
				break
			}
			if !staticLink.MatchString(build.args) || !strings.Contains(build.args, "-linkmode external") {
				bad("line %d: go build does not link statically (want -linkmode external -extldflags -static)", build.line)
			}
			tags := ""
			if m := goTags.FindStringSubmatch(build.args); m != nil {
				tags = "," + m[1] + ","
			}
			for _, tag := range []string{"netgo", "osusergo"} {
				if !strings.Contains(tags, ","+tag+",") {
					bad("line %d: go build lacks -tags %s (a static glibc binary must not need NSS)", build.line, tag)
				}
			}
		}
	}

	// every image path the pods name
	for _, p := range pods {
		for _, a := range append(append([]string{}, p.command...), p.args...) {
			if !path.IsAbs(a) {
				continue
			}
			onVolume := false
			for _, m := range p.mounts {
				if a == m || strings.HasPrefix(a, strings.TrimSuffix(m, "/")+"/") {
					onVolume = true
				}
			}
			if onVolume {
				continue
			}
			checked = append(checked, a)
			c, src, ok := final.provider(a, isDir)
			switch {
			case !ok:
				bad("%s uses %s, which no COPY in the final stage puts into the image", p.name, a)
			case c.from != "":
				// a build-stage output: the entrypoint check covers the binary
			case dockerignored(dockerignore, src):
				bad("%s uses %s, copied from %s, which .dockerignore leaves out of the build context", p.name, a, src)
			default:
				if _, err := os.Stat(filepath.Join(repo, filepath.FromSlash(src))); err != nil {
					bad("%s uses %s, copied from %s, which is not in the repository", p.name, a, src)
				}
			}
		}
	}
	return problems, checked
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	require.NoError(t, err)
	return string(b)
}

// The repository's Dockerfile builds the image the manifests expect.
func TestDockerfile(t *testing.T) {
	pods := readPods(t)
	problems, checked := dockerfileProblems(readRepoFile(t, "Dockerfile"), readRepoFile(t, ".dockerignore"), "../..", pods)
	assert.Empty(t, problems)
	// not vacuous: the manifests' binary and sweep file were resolved
	assert.Contains(t, checked, "/usr/local/bin/lockstep")
	assert.Contains(t, checked, "/opt/lockstep/sweeps/pilot-ttl-fleet.yaml")

	stages, err := parseDockerfile(readRepoFile(t, "Dockerfile"))
	require.NoError(t, err)
	require.Len(t, stages, 2)
	assert.Equal(t, "build", stages[0].name)
	isDir := contextDirs("../..")
	c, src, ok := stages[1].provider("/opt/lockstep/scenarios/quickstart.yaml", isDir)
	require.True(t, ok)
	assert.Equal(t, "", c.from)
	assert.Equal(t, "scenarios/quickstart.yaml", src)
	c, src, ok = stages[1].provider("/usr/local/bin/lockstep", isDir)
	require.True(t, ok)
	assert.Equal(t, "build", c.from)
	assert.Equal(t, "/out/lockstep", src)
	_, _, ok = stages[1].provider("/usr/local/bin/lockstep2", isDir)
	assert.False(t, ok)
	// the other spellings of a COPY: a directory without the slash, a file
	// into a directory, a relative target under WORKDIR
	alt, err := parseDockerfile("FROM a AS b\nFROM scratch\nWORKDIR /opt/x\nCOPY sweeps sw\nCOPY go.mod go.sum ./\n")
	require.NoError(t, err)
	_, src, ok = alt[1].provider("/opt/x/sw/pilot-ttl-fleet.yaml", isDir)
	assert.True(t, ok)
	assert.Equal(t, "sweeps/pilot-ttl-fleet.yaml", src)
	_, src, ok = alt[1].provider("/opt/x/go.sum", isDir)
	assert.True(t, ok)
	assert.Equal(t, "go.sum", src)
	assert.True(t, dockerignored(readRepoFile(t, ".dockerignore"), "docs/sweep.md"))
	assert.True(t, dockerignored(readRepoFile(t, ".dockerignore"), "cmd/lockstep/out/x.json"), "**/out/")
	assert.False(t, dockerignored(readRepoFile(t, ".dockerignore"), "cmd/lockstep/main.go"))
}

// Every check of dockerfileProblems fires on a Dockerfile, .dockerignore or
// manifest broken in the way it guards against.
func TestDockerfileChecksFail(t *testing.T) {
	docker, ignore := readRepoFile(t, "Dockerfile"), readRepoFile(t, ".dockerignore")
	runtimeStage := docker[strings.Index(docker, "\nFROM gcr.io/"):]
	for _, c := range []struct {
		name, old, new string
		ignore         string // appended to .dockerignore
		pod            func(p *podSpec)
		want           string
	}{
		{name: "single stage", old: docker, new: runtimeStage, want: "at least 2 FROM stages"},
		{name: "USER root", old: "USER 65532:65532", new: "USER root", want: "runs as root"},
		{name: "USER 0", old: "USER 65532:65532", new: "USER 0:0", want: "runs as root"},
		{name: "USER by name", old: "USER 65532:65532", new: "USER nonroot", want: "not numeric"},
		{name: "USER not runAsUser", old: "USER 65532:65532", new: "USER 1000", want: "runAsUser 65532"},
		{name: "no USER", old: "USER 65532:65532\n", new: "", want: "sets no USER"},
		{name: "dynamic link", old: " -extldflags -static", new: "", want: "does not link statically"},
		{name: "no netgo", old: "-tags netgo,osusergo", new: "-tags osusergo", want: "lacks -tags netgo"},
		{name: "binary not from go build", old: "COPY --from=build /out/lockstep ", new: "COPY --from=build /out/other ", want: "not the go build -o output"},
		{name: "binary from the context", old: "COPY --from=build /out/lockstep ", new: "COPY lockstep ", want: "not copied --from an earlier build stage"},
		{name: "entrypoint elsewhere", old: `ENTRYPOINT ["/usr/local/bin/lockstep"]`, new: `ENTRYPOINT ["/usr/bin/lockstep"]`, want: `runs command ["/usr/local/bin/lockstep"]`},
		{name: "shell-form entrypoint", old: `ENTRYPOINT ["/usr/local/bin/lockstep"]`, new: `ENTRYPOINT /usr/local/bin/lockstep`, want: "not exec form"},
		{name: "sweeps elsewhere", old: "COPY sweeps/ /opt/lockstep/sweeps/", new: "COPY sweeps/ /opt/lockstep/sweep-files/", want: "uses /opt/lockstep/sweeps/pilot-ttl-fleet.yaml, which no COPY"},
		{name: "sweeps ignored", ignore: "\nsweeps/\n", want: "which .dockerignore leaves out"},
		{name: "sweep file missing", pod: func(p *podSpec) {
			for i, a := range p.args {
				if strings.HasPrefix(a, "/opt/lockstep/sweeps/") {
					p.args[i] = "/opt/lockstep/sweeps/no-such-sweep.yaml"
				}
			}
		}, want: "copied from sweeps/no-such-sweep.yaml, which is not in the repository"},
		{name: "pod runs another command", pod: func(p *podSpec) { p.command = []string{"/bin/sh", "-c"} }, want: "runs command"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := docker
			if c.old != "" {
				require.Contains(t, d, c.old, "the mutation applies")
				d = strings.Replace(d, c.old, c.new, 1)
			}
			pods := readPods(t)
			if c.pod != nil {
				c.pod(&pods[0])
			}
			problems, _ := dockerfileProblems(d, ignore+c.ignore, "../..", pods)
			require.NotEmpty(t, problems)
			assert.Contains(t, strings.Join(problems, "\n"), c.want)
		})
	}
	_, err := parseDockerfile("WORKDIR /x\nFROM scratch\n")
	assert.ErrorContains(t, err, "WORKDIR before the first FROM")
}
