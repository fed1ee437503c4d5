// Package oci builds parley's container image: one layer on an empty base
// holding the static parley binary, CA certificates, a non-root user and the
// /data directory, written as an OCI image archive (an OCI image layout in a
// tar file, what `podman load` and `skopeo copy oci-archive:` read). The
// build is reproducible: the same binary, certificates and metadata give the
// same bytes, and so the same digest, on any host.
package oci
