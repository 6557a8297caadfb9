package main

import (
	"net"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

// boundPort binds a TCP socket on 127.0.0.1 without listening: RIE cannot
// bind the port, and a dial to it is refused, as when another process's
// connection took the port between its pick and RIE's start.
func boundPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// TestStartTriesOtherPortsWhenRIECannotBind: an RIE that exits because its
// port was taken is started again on other ports, at once, instead of
// being waited for 10 s and failing the round's requests.
func TestStartTriesOtherPortsWhenRIECannotBind(t *testing.T) {
	rie, err := repo.Tool("aws-lambda-rie")
	require.NoError(t, err, "run scripts/tools.sh first")
	taken := boundPort(t)
	var picked []string
	b := &baseline{rie: rie, dir: t.TempDir(), bootstrap: "/bin/true", pick: func() (string, error) {
		if len(picked) == 0 {
			picked = append(picked, taken)
			return taken, nil
		}
		a, err := freeAddr()
		picked = append(picked, a)
		return a, err
	}}

	p, err := b.start()
	require.NoError(t, err)
	t.Cleanup(p.kill)
	assert.Len(t, picked, 4, "a second pair of ports after the first RIE exited")
	assert.Contains(t, p.url, picked[2], "the running RIE is the second one")
}
