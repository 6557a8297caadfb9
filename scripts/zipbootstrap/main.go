// Command zipbootstrap packs a Lambda bootstrap into a deployment zip that
// depends on nothing but the bootstrap's bytes: one entry named bootstrap,
// mode 0755, a fixed timestamp, no extra fields, no comment. It also writes
// the zip's SHA-256 as base64, the value Terraform's source_code_hash takes.
//
// Usage: go run ./scripts/zipbootstrap -o dist/function.zip dist/bootstrap
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// dosDate and dosTime are 1980-01-01 00:00:00, the earliest MS-DOS time,
// written as the entry's time. Setting the header's Modified instead would
// add an extended-timestamp extra field.
const (
	dosDate = 1<<5 | 1 // day 1, month 1, year 1980
	dosTime = 0
)

// errUsage marks an error in the command line (exit status 2, as for the
// scripts' usage errors).
var errUsage = errors.New("usage: zipbootstrap -o <function.zip> <bootstrap>")

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "zipbootstrap:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("zipbootstrap", flag.ContinueOnError)
	out := fs.String("o", "", "the zip to write; its SHA-256 goes to the same path plus .sha256")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w (%w)", errUsage, err)
	}
	if *out == "" || fs.NArg() != 1 {
		return errUsage
	}
	bootstrap, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	zipped, err := Zip(bootstrap)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(zipped)
	b64 := base64.StdEncoding.EncodeToString(sum[:])
	if err := os.WriteFile(*out, zipped, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".sha256", []byte(b64+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes, sha256 %x (base64 %s)\n", *out, len(zipped), sum, b64)
	return nil
}

// Zip returns the deployment zip of bootstrap.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	//lint:ignore SA1019 the MS-DOS fields are the only way to set a time without an extra field.
	h.ModifiedDate, h.ModifiedTime = dosDate, dosTime
	h.SetMode(0o755)
	f, err := w.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(bootstrap); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
