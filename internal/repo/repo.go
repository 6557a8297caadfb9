// Package repo locates this repository's checkout and the pinned tools that
// scripts/tools.sh builds into it, so that tests, the local stack and the
// command-line entry points agree on where things are.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// Root returns the repository's top directory: the nearest parent of the
// working directory that holds go.mod and the envs/ folder.
func Root() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = fmt.Errorf("repo: working directory: %w", err)
			return
		}
		for {
			if isRoot(dir) {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("repo: no go.mod with a sibling envs/ folder above the working directory; run from inside the repository")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

func isRoot(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "envs"))
	return err == nil && st.IsDir()
}

// Path joins elem onto the repository root.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root}, elem...)...), nil
}

// Tool returns the path of a pinned tool built by scripts/tools.sh. The
// environment variable named by the tool in upper case with dashes as
// underscores and a _PATH suffix (AWS_LAMBDA_RIE_PATH for aws-lambda-rie)
// overrides the location.
func Tool(name string) (string, error) {
	if p := os.Getenv(overrideVar(name)); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("repo: %s=%s: %w", overrideVar(name), p, err)
		}
		return p, nil
	}
	p, err := Path(".tools", "bin", name)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("repo: %s is not installed at %s: run scripts/tools.sh %s (or make tools)", name, p, name)
	}
	return p, nil
}

// overrideVar names the environment variable that overrides tool's path.
func overrideVar(tool string) string {
	return strings.ToUpper(strings.ReplaceAll(tool, "-", "_")) + "_PATH"
}
