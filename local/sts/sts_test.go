package sts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/sdkhttp"
	"github.com/acme/request-dump/local/sigv4"
	"github.com/acme/request-dump/local/sts"
)

func client(url string, creds aws.CredentialsProvider) *awssts.Client {
	return awssts.New(awssts.Options{Region: "ap-northeast-1", BaseEndpoint: aws.String(url), Credentials: creds, HTTPClient: sdkhttp.New()})
}

func start(t *testing.T) (*sts.Service, string) {
	svc := sts.New("ap-northeast-1", "000000000000")
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, srv.URL
}

var local = credentials.NewStaticCredentialsProvider(sts.LocalAccessKeyID, sts.LocalSecretAccessKey, "")

// AssumeRole of a registered role with the SDK's client gives temporary
// credentials that GetCallerIdentity and the gateway's SigV4 check accept
// as the assumed role.
func TestAssumeRole(t *testing.T) {
	svc, url := start(t)
	arn := svc.PutRole("request-dump-stg-caller")
	out, err := client(url, local).AssumeRole(context.Background(), &awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("smoke")})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::000000000000:assumed-role/request-dump-stg-caller/smoke", aws.ToString(out.AssumedRoleUser.Arn))
	assert.Regexp(t, `^ASIA[A-Z2-7]{16}$`, aws.ToString(out.Credentials.AccessKeyId))
	assert.NotEmpty(t, aws.ToString(out.Credentials.SessionToken))
	assert.WithinDuration(t, time.Now().Add(time.Hour), aws.ToTime(out.Credentials.Expiration), time.Minute)

	session := credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	who, err := client(url, session).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(who.Arn))
	assert.Equal(t, "000000000000", aws.ToString(who.Account))
	assert.Regexp(t, `^AROA[A-Z2-7]{17}:smoke$`, aws.ToString(who.UserId))

	// The gateway verifies execute-api requests against the same store.
	creds, err := session.Retrieve(context.Background())
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/events", bytes.NewReader([]byte("{}")))
	sum := sha256.Sum256([]byte("{}"))
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "ap-northeast-1", time.Now()))
	req.RequestURI = "/events"
	p, err := sigv4.New(svc, "execute-api", "ap-northeast-1").Verify(req, []byte("{}"), time.Now())
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(who.Arn), p.ARN)
}

func TestCallerIdentityOfTheLocalUser(t *testing.T) {
	_, url := start(t)
	who, err := client(url, local).GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::000000000000:user/local", aws.ToString(who.Arn))
	id := aws.ToString(who.UserId)
	assert.Regexp(t, `^AIDA[A-Z2-7]{17}$`, id)
	assert.Greater(t, len(distinct(id[4:])), 4, "an id like AWS's, not a repeated pattern: %s", id)
}

func distinct(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, c := range s {
		m[c] = true
	}
	return m
}

// STS's answers to what it refuses, as the SDK decodes them; the
// validation messages as AWS words them (moto#9218 and
// zalando-incubator/kube-aws-iam-controller#16 for the session name's
// length, JuliaCloud/AWSCore.jl#38 for its pattern, kreuzwerker/awsu#27 for
// the role's maximum session duration).
func TestRefusals(t *testing.T) {
	svc, url := start(t)
	arn := svc.PutRole("request-dump-stg-caller")
	for _, c := range []struct {
		name  string
		creds aws.CredentialsProvider
		in    awssts.AssumeRoleInput
		code  string
		msg   string
	}{
		{"unknown access key", credentials.NewStaticCredentialsProvider("AKIAUNKNOWN", "x", ""), awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")}, "InvalidClientTokenId", ""},
		{"wrong secret", credentials.NewStaticCredentialsProvider("local", "wrong", ""), awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")}, "SignatureDoesNotMatch", ""},
		{"role not registered", local, awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/other"), RoleSessionName: aws.String("s1")}, "AccessDenied",
			"User: arn:aws:iam::000000000000:user/local is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/other"},
		{"session name too short", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s")}, "ValidationError",
			"1 validation error detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"session name too long", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String(strings.Repeat("s", 65))}, "ValidationError",
			"1 validation error detected: Value '" + strings.Repeat("s", 65) + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"session name with a colon", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("a:b")}, "ValidationError",
			`1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"shorter than STS allows", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)}, "ValidationError",
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"longer than the role allows", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)}, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"longer than STS allows", local, awssts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)}, "ValidationError",
			"1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := client(url, c.creds).AssumeRole(context.Background(), &c.in)
			var api smithy.APIError
			require.True(t, errors.As(err, &api), "%v", err)
			assert.Equal(t, c.code, api.ErrorCode())
			if c.msg != "" {
				assert.Equal(t, c.msg, api.ErrorMessage())
			}
		})
	}
}
