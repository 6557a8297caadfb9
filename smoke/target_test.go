package smoke

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

func TestLoadOutputs(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    Target
		wantErr string
	}{
		{file: "local.json", want: Target{
			APIURL:       "http://127.0.0.1:4566/restapis/dqjpui00wg/dev/_user_request_",
			FunctionName: "request-dump-dev",
			LogGroupName: "/aws/lambda/request-dump-dev",
			Region:       "ap-northeast-1",
			EndpointURL:  "http://127.0.0.1:4566",
			AccessMode:   "none",
		}},
		{file: "aws.json", want: Target{
			APIURL:       "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/stg",
			FunctionName: "request-dump-stg",
			LogGroupName: "/aws/lambda/request-dump-stg",
			Region:       "ap-northeast-1",
			AccessMode:   "none",
		}},
		{file: "aws-api-key.json", want: Target{
			APIURL:          "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/stg",
			FunctionName:    "request-dump-stg",
			LogGroupName:    "/aws/lambda/request-dump-stg",
			Region:          "ap-northeast-1",
			AccessMode:      "api_key",
			APIKeyParameter: "/request-dump-stg/api-keys/smoke",
		}},
		{file: "aws-iam.json", want: Target{
			APIURL:        "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/stg",
			FunctionName:  "request-dump-stg",
			LogGroupName:  "/aws/lambda/request-dump-stg",
			Region:        "ap-northeast-1",
			AccessMode:    "iam",
			CallerRoleARN: "arn:aws:iam::123456789012:role/request-dump-stg-caller",
		}},
		{file: "api-key-without-smoke.json", wantErr: `access_mode is api_key but output api_key_parameters (map[partner:/request-dump-stg/api-keys/partner]) names no "smoke" key`},
		{file: "bad-access-mode.json", wantErr: "output access_mode is cognito, want none, api_key or iam"},
		{file: "missing.json", wantErr: "outputs lack log_group_name, region (have: api_url, function_name)"},
		{file: "not-string.json", wantErr: "output function_name is 42, want a non-empty string"},
		{file: "bad-url.json", wantErr: `output api_url "a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/dev" is not an http(s) URL`},
		{file: "not-json.json", wantErr: "outputs are not `terraform output -json`"},
		{file: "no-such-file.json", wantErr: "no such file or directory"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := LoadOutputs(filepath.Join("testdata", "outputs", tc.file))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	local, err := LoadOutputs(filepath.Join("testdata", "outputs", "local.json"))
	require.NoError(t, err)
	require.NoError(t, local.CheckLoopback())

	aws, err := LoadOutputs(filepath.Join("testdata", "outputs", "aws.json"))
	require.NoError(t, err)
	require.ErrorContains(t, aws.CheckLoopback(), "the outputs have no endpoint_url, so they are not the local stack's: run make local-up")

	off, err := LoadOutputs(filepath.Join("testdata", "outputs", "off-loopback.json"))
	require.NoError(t, err)
	require.ErrorContains(t, off.CheckLoopback(), `endpoint_url "http://10.20.30.40:4566" is not on a loopback address`)

	mixed := local
	mixed.APIURL = "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/dev"
	require.ErrorContains(t, mixed.CheckLoopback(), `api_url "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/dev" is not on a loopback address`)

	for _, u := range []string{"http://localhost:4566", "http://[::1]:4566", "http://127.0.0.2:4566"} {
		lo := local
		lo.EndpointURL, lo.APIURL = u, u+"/restapis/x/dev/_user_request_"
		assert.NoError(t, lo.CheckLoopback(), u)
	}
}

// TestCheckAnswers: outputs whose stack has stopped are refused with the
// command that starts it, instead of a run of "connection refused" checks.
func TestCheckAnswers(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(up.Close)
	stopped := httptest.NewServer(http.NotFoundHandler())
	stopped.Close()

	for _, tc := range []struct {
		name     string
		endpoint string
		wantErr  string
	}{
		{name: "running", endpoint: up.URL},
		{name: "stopped", endpoint: stopped.URL, wantErr: "smoke: no local stack answers at " + stopped.URL + ", the endpoint_url of the outputs ("},
		{name: "stopped, the fix", endpoint: stopped.URL, wantErr: "connection refused): the stack that wrote them has stopped (killed, or the machine restarted); start it again with make local-up ENV=stg"},
		{name: "off loopback", endpoint: "http://10.20.30.40:4566", wantErr: "a local smoke run talks to loopback addresses only"},
		{name: "not a URL", endpoint: "127.0.0.1:4566", wantErr: `endpoint_url "127.0.0.1:4566" is not a URL such as http://127.0.0.1:4566`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Target{EndpointURL: tc.endpoint}.CheckAnswers("stg")
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// TestLoopbackOnly checks the dialer guard of local runs on addresses
// alone: it runs before connect, so nothing is dialled here.
func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:4566", "[::1]:4566", "127.10.0.1:80"} {
		assert.NoError(t, loopbackOnly("tcp", addr, nil), addr)
	}
	for _, addr := range []string{"10.20.30.40:4566", "169.254.169.254:80", "[2001:db8::1]:443", "0.0.0.0:4566"} {
		assert.ErrorContains(t, loopbackOnly("tcp", addr, nil), "a local smoke run talks to loopback addresses only", addr)
	}
}

func TestTimeout(t *testing.T) {
	local := Target{EndpointURL: "http://127.0.0.1:4566"}
	aws := Target{}
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == TimeoutVar {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		target  Target
		value   string
		want    time.Duration
		wantErr string
	}{
		{target: local, want: 5 * time.Second},
		{target: aws, want: 2 * time.Minute},
		{target: aws, value: "90s", want: 90 * time.Second},
		{target: local, value: "250ms", want: 250 * time.Millisecond},
		{target: local, value: "10", wantErr: `SMOKE_TIMEOUT="10" is not a positive Go duration (want e.g. 10s or 3m)`},
		{target: local, value: "-1s", wantErr: "is not a positive Go duration"},
		{target: local, value: "0s", wantErr: "is not a positive Go duration"},
	} {
		got, err := tc.target.Timeout(env(tc.value))
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, tc.value)
			continue
		}
		assert.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.value)
	}
}

// TestFromTerraform reads a target through terratest and the pinned
// terraform binary from a root whose state holds an env's outputs. The
// root first has no .terraform, so it is initialised; with no
// configuration that needs nothing from the network.
func TestFromTerraform(t *testing.T) {
	tf, err := repo.Tool("terraform")
	require.NoError(t, err, "make test builds the pinned terraform first (scripts/tools.sh)")
	dir := t.TempDir()
	state, err := os.ReadFile(filepath.Join("testdata", "state.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "terraform.tfstate"), state, 0o644))

	want := Target{
		APIURL:       "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/stg",
		FunctionName: "request-dump-stg",
		LogGroupName: "/aws/lambda/request-dump-stg",
		Region:       "ap-northeast-1",
		// A map output (api_key_parameters) read back through terraform.
		AccessMode:      "api_key",
		APIKeyParameter: "/request-dump-stg/api-keys/smoke",
	}
	target, err := FromTerraform(t, dir, tf)
	require.NoError(t, err)
	require.Equal(t, want, target)
	require.False(t, target.Local())
	require.Equal(t, DefaultAWSTimeout, target.DefaultTimeout())

	_, err = FromTerraform(t, filepath.Join(dir, "missing"), tf)
	require.ErrorContains(t, err, "terraform init in "+filepath.Join(dir, "missing"))
}

// TestFromTerraformInitialisesOnlyWhatNeedsIt: a root whose backend was
// initialised (as Atlantis leaves it) is read as it is; one with no
// .terraform, or with the modules alone that `terraform get` installs, is
// initialised first (else terraform output stops at "Backend
// initialization required"). A stand-in terraform records its commands.
func TestFromTerraformInitialisesOnlyWhatNeedsIt(t *testing.T) {
	outputs, err := filepath.Abs(filepath.Join("testdata", "outputs", "aws-api-key.json"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		files    []string // under the root's .terraform
		commands string
	}{
		{"never initialised", nil, "init\noutput\n"},
		{"modules only, from terraform get", []string{"modules/modules.json"}, "init\noutput\n"},
		{"backend initialised", []string{"terraform.tfstate", "modules/modules.json"}, "output\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, bin := t.TempDir(), t.TempDir()
			for _, f := range tc.files {
				path := filepath.Join(dir, ".terraform", f)
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte("{}"), 0o644))
			}
			log := filepath.Join(bin, "commands")
			tf := filepath.Join(bin, "terraform")
			script := "#!/bin/sh\necho \"$1\" >> " + log + "\nif [ \"$1\" = output ]; then cat " + outputs + "; fi\n"
			require.NoError(t, os.WriteFile(tf, []byte(script), 0o755))

			target, err := FromTerraform(t, dir, tf)
			require.NoError(t, err)
			assert.Equal(t, "request-dump-stg", target.FunctionName)
			commands, err := os.ReadFile(log)
			require.NoError(t, err)
			assert.Equal(t, tc.commands, string(commands))
		})
	}
}
