// Command artifact uploads, promotes and checks the function zip in the
// artifact bucket and keeps each env's pointer (envs/<env>/artifact.auto.tfvars.json)
// in step. The scripts in scripts/ (upload.sh, promote.sh, check-pointer.sh,
// set-pointer.sh, verify-artifact.sh, promotions.sh, rollback.sh,
// open-promotion-pr.sh, check-promotion.sh, local-up.sh) call it; run it
// from inside the repository. Every pointer it reads is parsed strictly
// (internal/pointer).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/acme/request-dump/internal/artifact"
	"github.com/acme/request-dump/internal/atomicfile"
	"github.com/acme/request-dump/internal/pointer"
	"github.com/acme/request-dump/internal/repo"
)

const usage = `usage: artifact <command> [flags] <args>

commands:
  upload <env> [--write-pointer] [--bucket NAME] [--zip PATH]
      store the build at s3://<bucket>/<env>/<sha256 hex>.zip (idempotent; never
      overwrites other bytes); --write-pointer also writes the env's pointer
  promote <from> <to>
      verify the <from> artifact, copy it to the <to> prefix, verify the copy,
      write the <to> pointer (envs go dev → stg → prod, one step at a time)
  check-pointer <env> [--zip PATH]
      check that the env's pointer names exactly the build (offline)
  set-pointer <env> [--bucket NAME] [--from ENV | --zip PATH]
      write the env's pointer for the build, or with --from for the artifact
      of the env before it, without touching S3 (offline)
  verify <env>
      check that the object the env's pointer names exists with those bytes
  restore <env> <file>
      check that the object the pointer in <file> names exists with those
      bytes, then write it as the env's pointer (what rollback.sh does)
  next <env>
      print the env an artifact in <env> is promoted to (nothing for the last)
  check-step <from> <to>
      check that <to> is the env right after <from>, as promote requires
      (offline): what open-promotion-pr.sh checks before it touches git
  bucket <env>
      print the artifact bucket the env's pointer names (after checking it)
  check-promotion <env>
      check that the env's pointer names the artifact the env before it names
      (offline): what a promotion pull request must still hold when it merges

S3 flags (upload, promote, verify, restore):
  --endpoint-url URL   S3 endpoint, e.g. the local stack http://127.0.0.1:4566
                       (default $AWS_ENDPOINT_URL_S3, then $AWS_ENDPOINT_URL)
  --region REGION      AWS region (default $AWS_REGION)
`

// errUsage marks an error in the command line itself (exit status 2).
var errUsage = errors.New("usage")

// argError marks an argument that names no env of this repository: exit
// status 2, as for the other scripts' usage errors, without the usage text.
type argError struct{ error }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "artifact: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, "\n"+usage)
			os.Exit(2)
		}
		if errors.As(err, new(argError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type cli struct {
	root       string
	stdout     io.Writer
	log        io.Writer
	endpoint   string
	region     string
	bucket     string
	zip        string
	from       string
	writePoint bool
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			return fmt.Errorf("%w: no command", errUsage)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	c := &cli{root: root, stdout: stdout, log: stderr}
	cmd, rest := args[0], args[1:]

	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s3flags := func() {
		endpoint := os.Getenv("AWS_ENDPOINT_URL_S3")
		if endpoint == "" {
			endpoint = os.Getenv("AWS_ENDPOINT_URL")
		}
		fs.StringVar(&c.endpoint, "endpoint-url", endpoint, "")
		fs.StringVar(&c.region, "region", "", "")
	}
	zipFlag := func() { fs.StringVar(&c.zip, "zip", filepath.Join(root, "dist", "function.zip"), "") }

	var nargs int
	var do func(ctx context.Context, pos []string) error
	switch cmd {
	case "upload":
		s3flags()
		zipFlag()
		fs.StringVar(&c.bucket, "bucket", "", "")
		fs.BoolVar(&c.writePoint, "write-pointer", false, "")
		nargs, do = 1, c.upload
	case "promote":
		s3flags()
		nargs, do = 2, c.promote
	case "check-pointer":
		zipFlag()
		nargs, do = 1, c.checkPointer
	case "set-pointer":
		zipFlag()
		fs.StringVar(&c.bucket, "bucket", "", "")
		fs.StringVar(&c.from, "from", "", "")
		nargs, do = 1, c.setPointer
	case "verify":
		s3flags()
		nargs, do = 1, c.verify
	case "restore":
		s3flags()
		nargs, do = 2, c.restore
	case "next":
		nargs, do = 1, c.next
	case "check-step":
		nargs, do = 2, c.checkStep
	case "bucket":
		nargs, do = 1, c.printBucket
	case "check-promotion":
		nargs, do = 1, c.checkPromotion
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, cmd, err)
	}
	if len(pos) != nargs {
		return fmt.Errorf("%w: %s takes %d argument(s), got %d: %q", errUsage, cmd, nargs, len(pos), pos)
	}
	if c.from != "" && flagGiven(fs, "zip") {
		return fmt.Errorf("%w: %s: --from and --zip exclude each other: --from writes the pointer for the artifact the --from env's pointer names, --zip for a build; pass one", errUsage, cmd)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return do(ctx, pos)
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (flag.Parse stops at the first positional one).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagGiven reports whether the command line set the flag name (its
// default does not count).
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// env checks that name is an env of this repository: a well-formed name with
// an envs/<name> directory.
func (c *cli) env(name string) error {
	if err := pointer.ValidateEnv(name); err != nil {
		return argError{err}
	}
	if st, err := os.Stat(filepath.Join(c.root, "envs", name)); err != nil || !st.IsDir() {
		return argError{fmt.Errorf("unknown env %q: there is no envs/%s directory (envs here: %s)", name, name, strings.Join(c.envs(), ", "))}
	}
	return nil
}

func (c *cli) envs() []string {
	entries, _ := os.ReadDir(filepath.Join(c.root, "envs"))
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return []string{"none"}
	}
	return names
}

func (c *cli) pointerPath(env string) string {
	return filepath.Join(c.root, "envs", env, pointer.FileName)
}

func (c *cli) rel(path string) string {
	if r, err := filepath.Rel(c.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// passBucket is what to do about an unreadable pointer for the commands
// that take --bucket.
const passBucket = "pass --bucket to name the artifact bucket"

// currentBucket returns the bucket of env's committed pointer, or "" when
// there is no pointer file yet; fix says what to do when it is unreadable.
func (c *cli) currentBucket(env, fix string) (string, error) {
	path := c.pointerPath(env)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	p, err := pointer.Parse(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w; %s", c.rel(path), err, fix)
	}
	return p.Bucket, nil
}

func (c *cli) bucketFor(env string) (string, error) {
	if c.bucket != "" {
		return c.bucket, nil
	}
	b, err := c.currentBucket(env, passBucket)
	if err != nil {
		return "", err
	}
	if b == "" {
		return "", fmt.Errorf("no artifact bucket: %s does not exist yet; pass --bucket <artifact bucket name>", c.rel(c.pointerPath(env)))
	}
	return b, nil
}

func (c *cli) store(ctx context.Context) (*artifact.Store, error) {
	client, err := artifact.NewClient(ctx, c.endpoint, c.region)
	if err != nil {
		return nil, err
	}
	return artifact.New(client, artifact.WithLog(c.log)), nil
}

// writePointer writes p as env's pointer, replacing the file atomically.
func (c *cli) writePointer(env string, p pointer.Pointer) error {
	if err := p.Validate(env); err != nil {
		return err
	}
	path := c.pointerPath(env)
	data := p.Marshal()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		fmt.Fprintf(c.log, "%s already names %s; unchanged\n", c.rel(path), p.Key)
		return nil
	}
	if err := atomicfile.Write(path, data, 0o644, ""); err != nil {
		return err
	}
	fmt.Fprintf(c.log, "wrote %s: s3://%s/%s (sha256 %s)\n", c.rel(path), p.Bucket, p.Key, p.SHA256)
	return nil
}

func (c *cli) upload(ctx context.Context, pos []string) error {
	env := pos[0]
	if err := c.env(env); err != nil {
		return err
	}
	bucket, err := c.bucketFor(env)
	if err != nil {
		return err
	}
	b, err := artifact.LoadBuild(c.zip)
	if err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	p, err := st.Upload(ctx, bucket, env, b.Zip)
	if err != nil {
		return err
	}
	if c.writePoint {
		return c.writePointer(env, p)
	}
	fmt.Fprintf(c.log, "%s not changed (pass --write-pointer to point %s at this upload)\n", c.rel(c.pointerPath(env)), env)
	return nil
}

func (c *cli) promote(ctx context.Context, pos []string) error {
	from, to := pos[0], pos[1]
	for _, e := range pos {
		if err := c.env(e); err != nil {
			return err
		}
	}
	if err := artifact.CheckPromotion(from, to); err != nil {
		return err
	}
	src, err := pointer.Load(c.pointerPath(from), from)
	if err != nil {
		return err
	}
	bucket, err := c.currentBucket(to, fmt.Sprintf("fix it, or delete it to promote into the bucket %s names", c.rel(c.pointerPath(from))))
	if err != nil {
		return err
	}
	if bucket == "" {
		bucket = src.Bucket
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	dst, err := st.Promote(ctx, src, from, bucket, to)
	if err != nil {
		return err
	}
	return c.writePointer(to, dst)
}

func (c *cli) checkPointer(_ context.Context, pos []string) error {
	env := pos[0]
	if err := c.env(env); err != nil {
		return err
	}
	path := c.pointerPath(env)
	p, err := pointer.Load(path, env)
	if err != nil {
		return err
	}
	b, err := artifact.LoadBuild(c.zip)
	if err != nil {
		return err
	}
	want := pointer.New(p.Bucket, env, b.Digest)
	if p == want {
		fmt.Fprintf(c.log, "%s names the build %s: s3://%s/%s\n", c.rel(path), c.rel(b.Path), p.Bucket, p.Key)
		return nil
	}
	fix := fmt.Sprintf(`make build && scripts/set-pointer.sh %[1]s   (offline; CI uploads the zip)
or, with AWS credentials for the %[1]s prefix:
  make build && scripts/upload.sh %[1]s --write-pointer`, env)
	commit := c.rel(path)
	if i := slices.Index(artifact.Order, env); i > 0 {
		fix, commit = c.promotionFix(i, want.SHA256)
	}
	return fmt.Errorf("%s names %s (sha256 %s), but %s has sha256 %s: the pointer does not name the zip this commit builds.\nFix: run\n  %s\nand commit %s",
		c.rel(path), p.Key, p.SHA256, c.rel(b.Path), want.SHA256, fix, commit)
}

// promotionFix says how env Order[i] (stg, prod) comes to name the build
// whose base64 SHA-256 is sum, and which pointers that writes. Promotion
// never skips an env, so it starts from the nearest env before it whose
// pointer names the build; from the one just before it only when that one
// does (prod's fix is not stg → prod while stg runs another artifact: that
// copy would leave prod's pointer as it was). When none does, dev is
// pointed at the build first.
func (c *cli) promotionFix(i int, sum string) (fix, commit string) {
	from := i - 1
	for ; from >= 0; from-- {
		if p, err := pointer.Load(c.pointerPath(artifact.Order[from]), artifact.Order[from]); err == nil && p.SHA256 == sum {
			break
		}
	}
	var steps, pointers []string
	if from < 0 {
		from = 0
		steps = append(steps, "make build && scripts/set-pointer.sh dev   (no env before "+artifact.Order[i]+" names this build; with AWS credentials for the dev prefix: scripts/upload.sh dev --write-pointer)")
		pointers = append(pointers, c.rel(c.pointerPath("dev")))
	}
	for j := from; j < i; j++ {
		steps = append(steps, fmt.Sprintf("scripts/promote.sh %s %s", artifact.Order[j], artifact.Order[j+1]))
		pointers = append(pointers, c.rel(c.pointerPath(artifact.Order[j+1])))
	}
	steps[len(steps)-1] += "   (each promotion copies the artifact and writes the pointer)"
	return strings.Join(steps, "\n  "), strings.Join(pointers, ", ")
}

func (c *cli) setPointer(_ context.Context, pos []string) error {
	env := pos[0]
	if err := c.env(env); err != nil {
		return err
	}
	if c.from == "" {
		bucket, err := c.bucketFor(env)
		if err != nil {
			return err
		}
		b, err := artifact.LoadBuild(c.zip)
		if err != nil {
			return err
		}
		return c.writePointer(env, pointer.New(bucket, env, b.Digest))
	}
	if err := c.env(c.from); err != nil {
		return err
	}
	if err := artifact.CheckPromotion(c.from, env); err != nil {
		return err
	}
	src, err := pointer.Load(c.pointerPath(c.from), c.from)
	if err != nil {
		return err
	}
	digest, err := src.Digest()
	if err != nil {
		return err
	}
	bucket := c.bucket
	if bucket == "" {
		if bucket, err = c.currentBucket(env, passBucket); err != nil {
			return err
		}
	}
	if bucket == "" {
		bucket = src.Bucket
	}
	return c.writePointer(env, pointer.New(bucket, env, digest))
}

func (c *cli) verify(ctx context.Context, pos []string) error {
	env := pos[0]
	p, err := c.verifyFile(ctx, env, c.pointerPath(env))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.log, "s3://%s/%s exists with sha256 %s, as %s says\n", p.Bucket, p.Key, p.SHA256, c.rel(c.pointerPath(env)))
	return nil
}

// verifyFile checks that the object the pointer file at path names, for
// env, exists with those bytes.
func (c *cli) verifyFile(ctx context.Context, env, path string) (pointer.Pointer, error) {
	if err := c.env(env); err != nil {
		return pointer.Pointer{}, err
	}
	p, err := pointer.Load(path, env)
	if err != nil {
		return pointer.Pointer{}, err
	}
	st, err := c.store(ctx)
	if err != nil {
		return pointer.Pointer{}, err
	}
	return p, st.Verify(ctx, p)
}

// printBucket prints the bucket of env's pointer, for local-up.sh, which
// creates it in the local S3 as the account-level root would.
func (c *cli) printBucket(_ context.Context, pos []string) error {
	env := pos[0]
	if err := c.env(env); err != nil {
		return err
	}
	p, err := pointer.Load(c.pointerPath(env), env)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, p.Bucket)
	return err
}

// restore makes the pointer in a file, an env's pointer at an earlier
// commit, the env's pointer once the object it names is verified: the
// pointer file is written last, in one rename, so a failure or an
// interruption before leaves it as it was.
func (c *cli) restore(ctx context.Context, pos []string) error {
	env := pos[0]
	p, err := c.verifyFile(ctx, env, pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.log, "s3://%s/%s exists with sha256 %s\n", p.Bucket, p.Key, p.SHA256)
	return c.writePointer(env, p)
}

func (c *cli) next(_ context.Context, pos []string) error {
	env := pos[0]
	if err := c.env(env); err != nil {
		return err
	}
	next, err := artifact.Next(env)
	if err != nil || next == "" {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, next)
	return err
}

func (c *cli) checkStep(_ context.Context, pos []string) error {
	for _, e := range pos {
		if err := c.env(e); err != nil {
			return err
		}
	}
	return artifact.CheckPromotion(pos[0], pos[1])
}

func (c *cli) checkPromotion(_ context.Context, pos []string) error {
	to := pos[0]
	if err := c.env(to); err != nil {
		return err
	}
	i := slices.Index(artifact.Order, to)
	if i < 0 {
		return argError{fmt.Errorf("env %q is not in the promotion order %s", to, strings.Join(artifact.Order, " → "))}
	}
	if i == 0 {
		return argError{fmt.Errorf("%s is first in the promotion order %s: nothing is promoted into it", to, strings.Join(artifact.Order, " → "))}
	}
	from := artifact.Order[i-1]
	src, err := pointer.Load(c.pointerPath(from), from)
	if err != nil {
		return err
	}
	dst, err := pointer.Load(c.pointerPath(to), to)
	if err != nil {
		return err
	}
	want, err := src.Digest()
	if err != nil {
		return err
	}
	got, err := dst.Digest()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s names %s, but %s names %s: %s no longer runs the artifact this promotion brings to %s (it was rolled back, or moved on to a newer one). Close this pull request: the promotion of what %s runs now has its own",
			c.rel(c.pointerPath(to)), dst.Key, c.rel(c.pointerPath(from)), src.Key, from, to, from)
	}
	fmt.Fprintf(c.log, "%s names the artifact %s runs (%s)\n", c.rel(c.pointerPath(to)), from, src.Key)
	return nil
}
