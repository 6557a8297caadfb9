package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"start"}, `unknown command "start"`},
		{"serve off loopback", []string{"serve", "--addr", "0.0.0.0:4566"}, "loopback only"},
		{"serve bad addr", []string{"serve", "--addr", "4566"}, "want host:port"},
		{"serve negative concurrency", []string{"serve", "--max-concurrency", "-1"}, "want 0 or more"},
		{"serve stray argument", []string{"serve", "now"}, `unexpected argument "now"`},
		{"serve empty region", []string{"serve", "--region", ""}, `--region "": want an AWS region name such as ap-northeast-1`},
		{"serve region not a region", []string{"serve", "--region", "Tokyo"}, "want an AWS region name"},
		{"serve fsync without a data dir", []string{"serve", "--fsync-logs"}, "--fsync-logs needs --data-dir"},
		{"deploy without env", []string{"deploy"}, "--env is required"},
		{"logs without env or group", []string{"logs"}, "exactly one of --env or --group"},
		{"logs bad since", []string{"logs", "--group", "g", "--since", "-1m"}, "positive duration"},
		{"deploy off loopback", []string{"deploy", "--env", "dev", "--endpoint", "http://192.0.2.1:4566"}, "want http://<loopback address>:<port>"},
		{"wait not http", []string{"wait", "--endpoint", "ftp://127.0.0.1:4566"}, "want http://<loopback address>:<port>"},
		{"wait bad timeout", []string{"wait", "--timeout", "0s"}, "positive duration"},
		{"wait bad pid", []string{"wait", "--pid", "-1"}, "--pid -1: want a process id"},
		{"unknown flag", []string{"deploy", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errUsage), "a usage error exits 2 with the usage: %v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDeployUnknownEnvListsTheEnvs(t *testing.T) {
	err := run(context.Background(), []string{"deploy", "--env", "qa"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown env "qa": envs/ has dev, prod, stg`)
}

func TestServeOnAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(context.Background(), []string{"serve", "--addr", ln.Addr().String()}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), ln.Addr().String()+" is already in use: stop what runs there")
	assert.Contains(t, err.Error(), "LOCAL_AWS_ENDPOINT=http://127.0.0.1:<port> for make local-up", "the scripts' knob, not only serve's flag")
}

// TestWaitForAStackThatExits: with --pid, wait gives up as soon as the
// process being started has exited (a serve whose port was taken), even
// while something else holds the port and never answers ready; a process
// that still runs is waited for until the timeout.
func TestWaitForAStackThatExits(t *testing.T) {
	// Accepts connections and never answers: wait alone would poll it
	// until its timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan []net.Conn, 1)
	go func() {
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				accepted <- conns
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range <-accepted {
			c.Close()
		}
	})
	gone := exec.Command("true")
	require.NoError(t, gone.Run()) // started, exited and reaped: its pid names no process now

	tests := []struct {
		name    string
		pid     int
		timeout string
		want    string
	}{
		{"exited", gone.Process.Pid, "60s", fmt.Sprintf("the local stack's process %d exited before it was ready (its log says why)", gone.Process.Pid)},
		{"running", os.Getpid(), "1s", "is not ready after 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"wait", "--endpoint", "http://" + ln.Addr().String(), "--token-file", filepath.Join(t.TempDir(), "none"), "--timeout", tt.timeout, "--pid", strconv.Itoa(tt.pid)}
			err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestWaitGivesUpWithTheReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	// Each wait below must see at least one answer (or refusal) before it
	// gives up: 2 s leaves room for that on a loaded machine, where 200 ms
	// once expired before the first attempt and reported no reason.
	err = run(context.Background(), []string{"wait", "--endpoint", "http://" + addr, "--timeout", "2s"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not ready after 2s")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestServeWritesAControlTokenThatWaitReads(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	tokenFile := filepath.Join(dir, "control-token")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--addr", addr, "--token-file", tokenFile}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	wait := func(file string) error {
		return run(context.Background(), []string{"wait", "--endpoint", "http://" + addr, "--token-file", file, "--timeout", "5s"}, &bytes.Buffer{}, &bytes.Buffer{})
	}
	require.NoError(t, wait(tokenFile))
	st, err := os.Stat(tokenFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "only the user who started the stack can read its token")

	other := filepath.Join(dir, "other-token")
	require.NoError(t, os.WriteFile(other, []byte("not this start's token\n"), 0o600))
	err = run(context.Background(), []string{"wait", "--endpoint", "http://" + addr, "--token-file", other, "--timeout", "2s"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing or wrong control token")
	missing := filepath.Join(dir, "missing")
	err = run(context.Background(), []string{"wait", "--endpoint", "http://" + addr, "--token-file", missing, "--timeout", "2s"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no control token at "+missing)

	cancel()
	require.NoError(t, <-served)
	_, err = os.Stat(tokenFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "a stopped stack leaves no token behind")
}
