package s3_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listing is what a ListObjects call answers: keys and common prefixes.
type listing struct {
	Keys, Prefixes []string
}

// listCases are ListObjects calls on a bucket holding listKeys, and what
// S3 answers: 200 with an empty list for a prefix nothing is under
// (ListObjectsV2 documents no error for it), the keys or common prefixes
// otherwise.
var (
	listKeys  = []string{"dev/a.zip", "dev/b.zip", "dev/nested/c.zip", "stg/d.zip"}
	listCases = []struct {
		name, prefix, delimiter string
		want                    listing
	}{
		{"whole bucket", "", "", listing{Keys: listKeys}},
		{"top level", "", "/", listing{Prefixes: []string{"dev/", "stg/"}}},
		{"an env", "dev/", "/", listing{Keys: []string{"dev/a.zip", "dev/b.zip"}, Prefixes: []string{"dev/nested/"}}},
		{"an env, no delimiter", "dev/", "", listing{Keys: []string{"dev/a.zip", "dev/b.zip", "dev/nested/c.zip"}}},
		{"nested", "dev/nested/", "/", listing{Keys: []string{"dev/nested/c.zip"}}},
		{"part of a name", "dev/a", "/", listing{Keys: []string{"dev/a.zip"}}},
		{"part of a directory name", "de", "/", listing{Prefixes: []string{"dev/"}}},
		{"an env with no object", "prod/", "/", listing{}},
		{"an env with no object, no delimiter", "prod/", "", listing{}},
		{"nested, missing", "dev/missing/deeper/", "/", listing{}},
		{"nested, missing, no delimiter", "dev/missing/deeper/", "", listing{}},
		{"under an object's key", "dev/a.zip/", "/", listing{}},
		{"no match at all", "zzz", "/", listing{}},
	}
)

func listingOf(contents []types.Object, prefixes []types.CommonPrefix) listing {
	var l listing
	for _, o := range contents {
		l.Keys = append(l.Keys, aws.ToString(o.Key))
	}
	for _, p := range prefixes {
		l.Prefixes = append(l.Prefixes, aws.ToString(p.Prefix))
	}
	return l
}

func TestListObjectsPrefixes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := start(t, b.dir(t))
			for _, key := range listKeys {
				require.NoError(t, put(t, st.client, key, []byte(key), nil))
			}
			ctx := context.Background()
			for _, tt := range listCases {
				t.Run(tt.name+" V2", func(t *testing.T) {
					in := &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(tt.prefix)}
					if tt.delimiter != "" {
						in.Delimiter = aws.String(tt.delimiter)
					}
					out, err := st.client.ListObjectsV2(ctx, in)
					require.NoError(t, err)
					got := listingOf(out.Contents, out.CommonPrefixes)
					assert.Equal(t, tt.want, got)
					assert.Equal(t, int32(len(got.Keys)+len(got.Prefixes)), aws.ToInt32(out.KeyCount))
				})
				t.Run(tt.name+" V1", func(t *testing.T) {
					in := &awss3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String(tt.prefix)}
					if tt.delimiter != "" {
						in.Delimiter = aws.String(tt.delimiter)
					}
					out, err := st.client.ListObjects(ctx, in)
					require.NoError(t, err)
					assert.Equal(t, tt.want, listingOf(out.Contents, out.CommonPrefixes))
				})
			}
			_, err := st.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket"), Prefix: aws.String("prod/"), Delimiter: aws.String("/")})
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), "NoSuchBucket"), "a missing bucket is still NoSuchBucket: %v", err)
		})
	}
}

func TestListObjectsPages(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := start(t, b.dir(t))
			for _, key := range listKeys {
				require.NoError(t, put(t, st.client, key, []byte(key), nil))
			}
			p := awss3.NewListObjectsV2Paginator(st.client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dev/"), MaxKeys: aws.Int32(1)})
			var keys []string
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(context.Background())
				require.NoError(t, err)
				pages++
				for _, o := range page.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
			}
			assert.Equal(t, []string{"dev/a.zip", "dev/b.zip", "dev/nested/c.zip"}, keys)
			assert.Equal(t, 3, pages)
		})
	}
}
