package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/sweep"
)

var sweepArgs = []string{"sweep", "../../scenarios/quickstart.yaml",
	"--vary", "couriers.fleet=2,3", "--vary", "labels.ttl.ready_for_pickup=12h,24h", "--replications", "3", "--quiet"}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lockstep")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func execLockstep(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "lockstep %v: %s", args, stderr.String())
}

func sweepFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range sweep.OutputFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// A sweep run on one machine, as 4 shards in separate processes and as 7
// shards taken from the Indexed Job environment merges into the same bytes.
func TestSweepShardsByteIdentical(t *testing.T) {
	bin := buildBinary(t)
	single := t.TempDir()
	execLockstep(t, bin, nil, append(sweepArgs, "--out", single)...)
	want := sweepFiles(t, single)
	require.Contains(t, string(want[1]), "point,couriers.fleet,labels.ttl.ready_for_pickup,replications,orders_mean")
	require.Equal(t, 5, bytes.Count(want[1], []byte("\n")), "header + 4 grid points")

	// 4 shards, 4 processes at once
	four := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			execLockstep(t, bin, nil, append(sweepArgs, "--shard", fmt.Sprintf("%d/4", i), "--out", four, "--workers", "1")...)
		}()
	}
	wg.Wait()
	shards, err := filepath.Glob(filepath.Join(four, "shard-*.json"))
	require.NoError(t, err)
	require.Len(t, shards, 4)
	merged4 := t.TempDir()
	execLockstep(t, bin, nil, append([]string{"merge", "--out", merged4, "--quiet"}, shards...)...)

	// 7 shards from the Indexed Job environment
	seven := t.TempDir()
	for i := 0; i < 7; i++ {
		execLockstep(t, bin, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i), "LOCKSTEP_SHARDS=7"},
			append(sweepArgs, "--shard-from-env", "--out", seven)...)
	}
	merged7 := t.TempDir()
	code, _, errOut := lockstep(t, "merge", filepath.Join(seven, "shard-*-of-0007.json"), "--out", merged7, "--quiet")
	require.Equal(t, exitOK, code, errOut)

	for _, dir := range []string{merged4, merged7} {
		got := sweepFiles(t, dir)
		for i := range got {
			assert.Equal(t, string(want[i]), string(got[i]), "%s in %s", sweep.OutputFiles[i], dir)
		}
		assert.FileExists(t, filepath.Join(dir, "sweep-pickup_success_rate-vs-couriers-fleet.png"))
		assert.FileExists(t, filepath.Join(dir, "sweep-pickup_success_rate-vs-labels-ttl-ready_for_pickup.svg"))
	}

	// a missing shard is named, exit 2
	code, _, errOut = lockstep(t, "merge", shards[0], shards[1], shards[3], "--out", t.TempDir())
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "2/4 (shard-0002-of-0004.json)")
	// a shard from another definition is rejected
	other := t.TempDir()
	code, _, errOut = lockstep(t, "sweep", "../../scenarios/quickstart.yaml", "--vary", "couriers.fleet=2,4",
		"--vary", "labels.ttl.ready_for_pickup=12h,24h", "--replications", "3", "--shard", "2/4", "--out", other, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = lockstep(t, "merge", shards[0], shards[1], filepath.Join(other, "shard-0002-of-0004.json"), shards[3], "--out", t.TempDir())
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "different sweep definition")
}

// On a terminal, sweep draws the progress bar of run and compare on the
// command's stderr: work items count as replications, their simulated days
// fill the bar; a shard counts its own items.
func TestSweepProgress(t *testing.T) {
	fakeTerminal(t, 0)
	args := slices.DeleteFunc(slices.Clone(sweepArgs), func(a string) bool { return a == "--quiet" })
	code, _, errOut := lockstep(t, append(args, "--out", t.TempDir())...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "sweeping 4 points: 0/12 replications, simulated days")
	assert.Contains(t, errOut, "/36, ", "4 points × 3 replications × 3 days")
	assert.Contains(t, errOut, "days/s")

	code, _, errOut = lockstep(t, append(args, "--shard", "1/4", "--out", t.TempDir())...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "shard 1/4: 0/3 replications, simulated days")
	assert.Contains(t, errOut, "/9, ")

	code, _, errOut = lockstep(t, append(args, "--quiet", "--out", t.TempDir())...)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
}

func TestSweepUsageErrors(t *testing.T) {
	q := "../../scenarios/quickstart.yaml"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep"}, "no base scenario"},
		{[]string{"sweep", q}, "nothing to vary"},
		{[]string{"sweep", q, "--vary", "couriers.flet=2"}, `couriers.flet: unknown field "flet"`},
		{[]string{"sweep", q, "--vary", "couriers.fleet=two"}, "couriers.fleet=two: wrong type"},
		{[]string{"sweep", q, "--vary", "nodes[L9].slots.medium=2"}, "nodes[L9]"},
		{[]string{"sweep", q, "--vary", "couriers.fleet"}, "want PATH=V1,V2"},
		{[]string{"sweep", q, "--vary", "couriers.fleet=2", "--shard", "4/4"}, "out of range"},
		{[]string{"sweep", q, "--vary", "couriers.fleet=2", "--shard-from-env"}, "JOB_COMPLETION_INDEX is not set"},
		{[]string{"sweep", q, "--vary", "couriers.fleet=2", "--metric", "nope"}, `metric "nope"`},
		{[]string{"sweep", q, "--file", "../../sweeps/pilot-ttl-fleet.yaml"}, "not both"},
		{[]string{"merge", "/does/not/exist-*.json"}, "no shard files match"},
		{[]string{"merge"}, "requires at least 1 arg"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := lockstep(t, c.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, c.want)
		})
	}
	code, out, _ := lockstep(t, "sweep", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "neighborhoods[*].orders_per_day")
	assert.Contains(t, out, "JOB_COMPLETION_INDEX")
}

func readManifest(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m), path)
	return m
}

// get walks a decoded manifest by keys and list indices.
func get(t *testing.T, m any, path ...any) any {
	t.Helper()
	cur := m
	for _, k := range path {
		switch k := k.(type) {
		case string:
			mm, ok := cur.(map[string]any)
			require.True(t, ok, "at %v: not a mapping", k)
			cur, ok = mm[k]
			require.True(t, ok, "missing key %q in %v", k, path)
		case int:
			l, ok := cur.([]any)
			require.True(t, ok && k < len(l), "at [%d]: not a list of that length", k)
			cur = l[k]
		}
	}
	return cur
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	l, ok := v.([]any)
	require.True(t, ok)
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// checkPod checks a Job's pod: non-root, the image's binary, the shared volume.
func checkPod(t *testing.T, job map[string]any, claim string) (args []string, mount string) {
	spec := get(t, job, "spec", "template", "spec")
	assert.Equal(t, "Never", get(t, spec, "restartPolicy"))
	assert.Equal(t, true, get(t, spec, "securityContext", "runAsNonRoot"))
	assert.NotEqual(t, 0, get(t, spec, "securityContext", "runAsUser"))
	c := get(t, spec, "containers", 0)
	assert.Equal(t, []string{"/usr/local/bin/lockstep"}, strs(t, get(t, c, "command")))
	assert.Equal(t, false, get(t, c, "securityContext", "allowPrivilegeEscalation"))
	assert.NotNil(t, get(t, c, "resources", "requests", "cpu"))
	assert.NotNil(t, get(t, c, "resources", "requests", "memory"))
	vol := get(t, spec, "volumes", 0)
	assert.Equal(t, claim, get(t, vol, "persistentVolumeClaim", "claimName"))
	vm := get(t, c, "volumeMounts", 0)
	assert.Equal(t, get(t, vol, "name"), get(t, vm, "name"))
	return strs(t, get(t, c, "args")), fmt.Sprint(get(t, vm, "mountPath"))
}

// The Kubernetes manifests: an Indexed Job whose completions match --shards,
// a merge Job over the same files, both non-root on the shared PVC, and
// commands the real CLI accepts.
func TestK8sManifests(t *testing.T) {
	pvc := readManifest(t, "../../deploy/k8s/pvc.yaml")
	assert.Equal(t, "PersistentVolumeClaim", pvc["kind"])
	assert.Contains(t, strs(t, get(t, pvc, "spec", "accessModes")), "ReadWriteMany")
	claim := fmt.Sprint(get(t, pvc, "metadata", "name"))

	job := readManifest(t, "../../deploy/k8s/sweep-job.yaml")
	assert.Equal(t, "batch/v1", job["apiVersion"])
	assert.Equal(t, "Job", job["kind"])
	assert.Equal(t, "Indexed", get(t, job, "spec", "completionMode"))
	completions, ok := get(t, job, "spec", "completions").(int)
	require.True(t, ok, "completions is an integer")
	assert.Positive(t, get(t, job, "spec", "parallelism"))
	args, mount := checkPod(t, job, claim)
	require.Equal(t, "sweep", args[0])
	assert.Contains(t, args, "--shard-from-env")
	assert.Equal(t, strconv.Itoa(completions), flagValue(args, "--shards"), "completions = --shards")
	shardDir := flagValue(args, "--out")
	assert.True(t, strings.HasPrefix(shardDir, mount+"/"), "--out %s on the volume %s", shardDir, mount)
	// the sweep file is the repo's, copied to /opt/lockstep by the Dockerfile
	file := flagValue(args, "--file")
	local, ok := strings.CutPrefix(file, "/opt/lockstep/")
	require.True(t, ok, file)
	def, err := sweep.LoadFile("../../" + local)
	require.NoError(t, err)
	_, err = sweep.New(def)
	require.NoError(t, err)
	// the real CLI accepts the flags
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	cmd, rest, err := root.Find(args)
	require.NoError(t, err)
	require.Equal(t, "sweep", cmd.Name())
	require.NoError(t, cmd.ParseFlags(rest))

	merge := readManifest(t, "../../deploy/k8s/merge-job.yaml")
	assert.Equal(t, "Job", merge["kind"])
	margs, mmount := checkPod(t, merge, claim)
	require.Equal(t, "merge", margs[0])
	assert.Equal(t, filepath.Join(shardDir, fmt.Sprintf("shard-*-of-%04d.json", completions)), margs[1], "merge reads the sweep's shards")
	assert.Equal(t, mount, mmount)
	mcmd, mrest, err := root.Find(margs)
	require.NoError(t, err)
	require.Equal(t, "merge", mcmd.Name())
	require.NoError(t, mcmd.ParseFlags(mrest))

	docker, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	d := string(docker)
	assert.GreaterOrEqual(t, strings.Count(d, "\nFROM "), 2, "multi-stage")
	assert.Contains(t, d, "-extldflags -static")
	assert.Contains(t, d, "COPY scenarios/ /opt/lockstep/scenarios/")
	assert.Contains(t, d, "COPY sweeps/ /opt/lockstep/sweeps/")
	assert.Contains(t, d, "COPY --from=build /out/lockstep /usr/local/bin/lockstep")
	assert.Regexp(t, `(?m)^USER [1-9][0-9]*`, d, "non-root user")
}
