package versions_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseStopsRetiredPools: the pool of a version nothing routes to any
// more (here the $LATEST an Update replaced) is stopped in the background;
// Close still waits for it, so that no aws-lambda-rie process outlives the
// service (and the test that made it).
func TestCloseStopsRetiredPools(t *testing.T) {
	svc, client := start(t)
	_, err := client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("fn"), Payload: []byte(`{"action":"echo","text":"warm"}`)})
	require.NoError(t, err)
	warm := rieChildren(t)
	require.NotEmpty(t, warm, "the invocation started an execution environment")

	require.NoError(t, svc.Update(spec(testZip, map[string]string{"MODE": "b"})))
	require.NoError(t, svc.Close())
	for _, pid := range warm {
		assert.False(t, running(pid), "aws-lambda-rie %d of the retired $LATEST outlived Close", pid)
	}
}

// rieChildren lists the aws-lambda-rie processes this test process started
// (a child is listed under the thread that forked it).
func rieChildren(t *testing.T) []int {
	t.Helper()
	lists, err := filepath.Glob("/proc/self/task/*/children")
	require.NoError(t, err)
	var pids []int
	for _, list := range lists {
		b, err := os.ReadFile(list)
		if err != nil {
			continue // the thread is gone
		}
		for _, field := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(field)
			require.NoError(t, err)
			if cmdline, err := os.ReadFile("/proc/" + field + "/cmdline"); err == nil && strings.Contains(string(cmdline), "aws-lambda-rie") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
