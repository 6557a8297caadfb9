package repo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootHoldsGoModAndEnvs(t *testing.T) {
	root, err := Root()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	assert.DirExists(t, filepath.Join(root, "envs"))
}

func TestToolOverride(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "rie")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))

	t.Setenv("AWS_LAMBDA_RIE_PATH", bin)
	got, err := Tool("aws-lambda-rie")
	require.NoError(t, err)
	assert.Equal(t, bin, got)

	t.Setenv("AWS_LAMBDA_RIE_PATH", bin+".missing")
	_, err = Tool("aws-lambda-rie")
	assert.ErrorContains(t, err, "AWS_LAMBDA_RIE_PATH="+bin+".missing")

	t.Setenv("NO_SUCH_TOOL_PATH", "")
	_, err = Tool("no-such-tool")
	assert.ErrorContains(t, err, "run scripts/tools.sh no-such-tool")
}
