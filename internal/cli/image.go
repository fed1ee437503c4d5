package cli

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/oci"
)

// imageCommand returns the image command and its usage text.
func imageCommand() *command {
	return &command{
		name:     "image",
		synopsis: "--out FILE [--binary FILE]",
		summary:  "write parley's container image as an OCI image archive",
		doc: `Image writes a container image of a static parley binary to FILE, an OCI
image archive (load it with 'podman load -i FILE', or copy it to a
registry with 'skopeo copy oci-archive:FILE docker://...'). No container
engine is needed. The image has an empty base and one layer: the binary at
/usr/bin/parley (the entrypoint), the CA certificates of --ca-file, the
non-root user parley (65532) and its data directory /data (the working
directory and a volume); it sets PARLEY_LOG_FORMAT=json and is labelled
with the version, the commit and the licence (Apache-2.0). The build is
reproducible: the same binary and flags give the same digest, which is
printed. The binary must be static: build it with
  CGO_ENABLED=0 go build -trimpath -o parley ./cmd/parley
(deploy/build-image.sh does both steps). See docs/deploy.md.`,
		example: "parley image --binary ./parley --revision $(git rev-parse HEAD) --out parley.oci.tar",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			o := imageOptions{}
			fs.StringVar(&o.out, "out", "", "write the archive to `FILE` (required)")
			fs.StringVar(&o.binary, "binary", "", "the static parley executable to package (default: this one)")
			fs.StringVar(&o.caFile, "ca-file", "/etc/ssl/certs/ca-certificates.crt", "the PEM bundle of CA certificates the image trusts, `FILE`")
			fs.StringVar(&o.version, "version", "", "the image's version label (default: the binary's module version)")
			fs.StringVar(&o.revision, "revision", "", "the image's commit label (default: the binary's vcs.revision)")
			fs.StringVar(&o.created, "created", "", "the creation `TIME`, RFC 3339 or Unix seconds (default: $SOURCE_DATE_EPOCH, else the binary's vcs.time, else 1970-01-01)")
			fs.StringVar(&o.tag, "tag", "", "the image `NAME` a loader tags it with (default: parley:VERSION)")
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if o.out == "" {
					return usageErrorf("--out is required")
				}
				return c.image(o)
			}
		},
	}
}

type imageOptions struct {
	out, binary, caFile, version, revision, created, tag string
}

// image builds the image of o.binary and writes it to o.out, whole or not
// at all.
func (c *cli) image(o imageOptions) error {
	spec, err := imageSpec(o)
	if err != nil {
		return err
	}
	img, err := oci.Build(spec)
	if err != nil {
		return err
	}
	tag := cmp.Or(o.tag, "parley:"+spec.Version)
	tmp, err := os.CreateTemp(filepath.Dir(o.out), ".image-*")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	err = oci.WriteArchive(w, img, tag, spec.Created)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644) // not a secret: CreateTemp's 0600 would keep a loader run as another user out
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.out)
	}
	if err != nil {
		return fmt.Errorf("image: %s: %w", o.out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s: %s %s (linux/%s, revision %s)\n", o.out, tag, digest, spec.Arch, spec.Revision)
	return nil
}

// imageSpec reads the binary and the certificates and settles the labels.
func imageSpec(o imageOptions) (oci.Spec, error) {
	path := o.binary
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return oci.Spec{}, fmt.Errorf("image: find the parley executable: %w", err)
		}
		path = exe
	}
	exe, err := os.ReadFile(path)
	if err != nil {
		return oci.Spec{}, fmt.Errorf("image: %w", err)
	}
	bin, err := oci.Inspect(exe)
	if err != nil {
		return oci.Spec{}, fmt.Errorf("image: %s: %w", path, err)
	}
	certs, err := os.ReadFile(o.caFile)
	if err != nil {
		return oci.Spec{}, fmt.Errorf("image: --ca-file: %w", err)
	}
	created, err := imageTime(o.created, bin.Time)
	if err != nil {
		return oci.Spec{}, err
	}
	return oci.Spec{Binary: exe, Arch: bin.Arch, CACerts: certs, Created: created,
		Version:  cmp.Or(o.version, bin.Version),
		Revision: cmp.Or(o.revision, bin.Revision, "unknown")}, nil
}

// imageTime is the image's creation time: flag, then SOURCE_DATE_EPOCH
// (the reproducible-builds convention), then the commit's time, then the
// Unix epoch; never the clock, which would change the digest.
func imageTime(flagValue string, vcsTime time.Time) (time.Time, error) {
	v := cmp.Or(flagValue, os.Getenv("SOURCE_DATE_EPOCH"))
	switch {
	case v == "" && vcsTime.IsZero():
		return time.Unix(0, 0).UTC(), nil
	case v == "":
		return vcsTime.UTC(), nil
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageErrorf("--created %q: want RFC 3339 or Unix seconds", v)
	}
	return t.UTC(), nil
}
