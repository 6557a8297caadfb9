package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/envconfig"
	"github.com/acme/request-dump/internal/repo"
	"github.com/acme/request-dump/local/stack"
	"github.com/acme/request-dump/local/stacktest"
)

// peakRSS is the most resident memory process pid has used (VmHWM), in
// bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestConcurrentLargeBodiesStayBounded sends 24 bodies of 10 MB at once to
// a local-aws process and bounds what its peak resident memory may grow by.
// Each body of many small JSON members took about 165 MiB while the
// gateway validated it, 3,973 MiB for the 24 (issue 13 saw 5.5 GiB); large
// bodies now share a budget of two at a time: 424 MiB.
func TestConcurrentLargeBodiesStayBounded(t *testing.T) {
	// The local stack runs on Linux only (RIE is a Linux program), where
	// /proc gives a process's peak memory.
	_, err := os.Stat("/proc/self/status")
	require.NoError(t, err, "reading a process's peak memory needs /proc")
	const bodies, size = 24, 10_000_000
	root, err := repo.Root()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "local-aws")
	build := exec.Command("go", "build", "-o", bin, "./local/cmd/local-aws")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	serve := exec.Command(bin, "serve", "--addr", addr, "--token-file", tokenFile, "--bucket", "acme-request-dump-artifacts")
	serve.Stderr = os.Stderr
	require.NoError(t, serve.Start())
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	endpoint := "http://" + addr
	client := &stack.Client{Endpoint: endpoint, TokenFile: tokenFile}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, client.WaitReady(ctx, 10*time.Millisecond))

	cfg, err := envconfig.Load("dev")
	require.NoError(t, err)
	cfg.Artifact = stacktest.Upload(t, endpoint, cfg.Artifact.Bucket, "dev", stacktest.FunctionZip(t))
	spec, err := stack.SpecFor(cfg)
	require.NoError(t, err)
	spec.ThrottlingRateLimit, spec.ThrottlingBurstLimit = 0, 0
	outputs, err := client.Deploy(ctx, spec)
	require.NoError(t, err)
	url := outputs["api_url"].String() + "/events"
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"event_id":"warm","type":"t"}`))
	require.NoError(t, err)
	resp.Body.Close()
	before := peakRSS(t, serve.Process.Pid)

	// Many small members: what costs a JSON decoder the most per byte.
	var members strings.Builder
	for n := 0; members.Len() < size-100; n++ {
		fmt.Fprintf(&members, `"k%d":%d,`, n, n)
	}
	body := []byte(`{"event_id":"big","type":"t","attributes":{` + strings.TrimSuffix(members.String(), ",") + `}}`)
	var wg sync.WaitGroup
	statuses := make([]int, bodies)
	for i := range bodies {
		wg.Go(func() {
			resp, err := http.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	after := peakRSS(t, serve.Process.Pid)
	for _, s := range statuses {
		assert.Equal(t, http.StatusRequestEntityTooLarge, s, "10 MB is over Lambda's 6 MB payload: API Gateway answers 413")
	}
	grew := after - before
	t.Logf("peak RSS %d MiB before, %d MiB after %d concurrent %d-byte bodies: %d MiB more, %d MiB per body",
		before>>20, after>>20, bodies, size, grew>>20, grew/bodies>>20)
	assert.Less(t, grew, int64(768<<20), "large bodies are bounded, not paid for all at once")
}
