package dump

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/proctest"
	"github.com/acme/request-dump/internal/repo"
)

// TestScriptsRefuseBadArguments: the benchmark and fuzz entry points
// refuse bad arguments and settings with exit status 2 and a message that
// says what they take, before they build or run anything.
func TestScriptsRefuseBadArguments(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	for _, tc := range []struct {
		script string
		env    []string
		args   []string
		want   string
	}{
		{"bench.sh", nil, []string{"-count"}, "usage: scripts/bench.sh [-count N]"},
		{"bench.sh", nil, []string{"-count", "0"}, "bench.sh: -count must be a whole number above 0, not '0'"},
		{"bench.sh", nil, []string{"-count", "five"}, "bench.sh: -count must be a whole number above 0, not 'five'"},
		{"bench.sh", nil, []string{"--fast"}, "bench.sh: unknown argument '--fast'"},
		{"fuzz.sh", nil, []string{"60s"}, "usage: FUZZTIME=60s scripts/fuzz.sh (no arguments)"},
		{"fuzz.sh", []string{"FUZZTIME=0s"}, nil, "FUZZTIME must be a duration above 0 like 60s or 5m, or a count like 10000x, not '0s'"},
		{"fuzz.sh", []string{"FUZZTIME=-5s"}, nil, "not '-5s'"},
		{"fuzz.sh", []string{"FUZZTIME=60"}, nil, "not '60'"},
		{"fuzz.sh", []string{"FUZZTIME=abc5s"}, nil, "not 'abc5s'"},
	} {
		t.Run(tc.script+" "+filepath.Join(tc.args...)+" "+filepath.Join(tc.env...), func(t *testing.T) {
			code, out := proctest.Run(t, root, append(os.Environ(), tc.env...), filepath.Join(root, "scripts", tc.script), tc.args...)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tc.want)
		})
	}
}
