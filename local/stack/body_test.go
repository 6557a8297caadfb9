package stack_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/local/stacktest"
)

// sendRaw writes a request's bytes to the server at endpoint, closes its
// side of the connection as a client that gives up sending does, and reads
// the answer.
func sendRaw(t *testing.T, endpoint, raw string) (int, string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server answers instead of hanging up")
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBodiesCutShortAreRefused(t *testing.T) {
	env := stacktest.Start(t)
	api, err := url.Parse(env.Outputs["api_url"].String())
	require.NoError(t, err)
	const event = `{"event_id":"cut-%s","type":"signup"}`
	bodies := map[string]func(id string) (headers, body string){
		"shorter than Content-Length": func(id string) (string, string) {
			b := fmt.Sprintf(event, id)
			return fmt.Sprintf("Content-Length: %d\r\n", len(b)+10), b
		},
		"chunked, cut off": func(id string) (string, string) {
			b := fmt.Sprintf(event, id)
			return "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(b)+10, b)
		},
		"chunked, malformed": func(id string) (string, string) {
			b := fmt.Sprintf(event, id)
			return "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\nzz\r\n\r\n", len(b), b)
		},
	}
	i := 0
	for name, body := range bodies {
		i++
		t.Run("API "+name, func(t *testing.T) {
			id := fmt.Sprint(i)
			h, b := body(id)
			status, answer := sendRaw(t, env.URL, "POST "+api.Path+"/events HTTP/1.1\r\nHost: "+api.Host+"\r\nContent-Type: application/json\r\n"+h+"\r\n"+b)
			assert.Equal(t, http.StatusBadRequest, status, "never a success without a dump: %s", answer)
			assert.Empty(t, filter(t, env.URL, env.Outputs["log_group_name"].String(), fmt.Sprintf(`{ $.fields.event_id = "cut-%s" }`, id)))
		})
		t.Run("S3 "+name, func(t *testing.T) {
			key := "dev/cut-" + fmt.Sprint(i)
			h, b := body(fmt.Sprint(i))
			status, answer := sendRaw(t, env.URL, "PUT /"+artifactBucket+"/"+key+" HTTP/1.1\r\nHost: "+api.Host+"\r\n"+h+"\r\n"+b)
			// S3 answers 400 IncompleteBody to a body shorter than its
			// Content-Length, and 411 MissingContentLength to a chunked one.
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusLengthRequired}, status, answer)
			_, err := stacktest.S3(env.URL).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(artifactBucket), Key: aws.String(key)})
			assert.Error(t, err, "nothing was stored")
		})
	}
}
