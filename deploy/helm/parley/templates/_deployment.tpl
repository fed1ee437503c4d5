{{/*
The deployment file (docs/options.md) the values describe: every pod of
every entry an application named after the pod, listening on its own
stable DNS name (kubelet maps it to the pod's address in /etc/hosts), the
deployment secret and each DSN read from the environment, the certificates
from the TLS Secret.
*/}}
{{- define "parley.deployment" -}}
{{- $root := . -}}
{{- $certs := "/etc/parley-tls" -}}
{{- $doc := dict "data-dir" "/data" "secret-env" "PARLEY_SECRET" -}}
{{- if .Values.tls.existingSecret -}}
{{- $_ := set $doc "trusted-ca-file" (printf "%s/ca.pem" $certs) -}}
{{- end -}}
{{- $dbs := dict -}}
{{- range $name, $db := .Values.databases -}}
{{- $e := dict "driver" $db.driver -}}
{{- if $db.dsnSecret -}}
{{- $_ := set $e "dsn-env" (include "parley.dsnEnv" $name) -}}
{{- else if $db.dsn -}}
{{- $_ := set $e "dsn" $db.dsn -}}
{{- end -}}
{{- $_ := set $dbs $name $e -}}
{{- end -}}
{{- $_ := set $doc "databases" $dbs -}}
{{- $apps := dict -}}
{{- range $entry, $a := .Values.applications -}}
{{- $sts := include "parley.sts" (dict "root" $root "entry" $entry) -}}
{{- $conns := list -}}
{{- range $c := $a.connections -}}
{{- if hasKey $root.Values.applications $c -}}
{{- $conns = concat $conns (include "parley.members" (dict "root" $root "entry" $c) | fromJsonArray) -}}
{{- else -}}
{{- $conns = append $conns $c -}}
{{- end -}}
{{- end -}}
{{- range $name := include "parley.members" (dict "root" $root "entry" $entry) | fromJsonArray -}}
{{- $host := printf "%s.%s.%s.svc.%s" $name $sts $root.Release.Namespace $root.Values.clusterDomain -}}
{{- $app := dict "type" $a.type "listen" (printf "%s:%d" $host (int $a.port)) -}}
{{- if $a.adminPort -}}{{- $_ := set $app "admin-listen" (printf "%s:%d" $host (int $a.adminPort)) -}}{{- end -}}
{{- if $a.database -}}{{- $_ := set $app "database" $a.database -}}{{- end -}}
{{- if $conns -}}{{- $_ := set $app "connections" $conns -}}{{- end -}}
{{- if $a.options -}}{{- $_ := set $app "options" $a.options -}}{{- end -}}
{{- if $root.Values.tls.existingSecret -}}
{{- $_ := set $app "tls" (dict "cert-file" (printf "%s/%s.pem" $certs $name) "key-file" (printf "%s/%s-key.pem" $certs $name)) -}}
{{- end -}}
{{- $_ := set $apps $name $app -}}
{{- end -}}
{{- end -}}
{{- $_ := set $doc "applications" $apps -}}
{{- toYaml $doc -}}
{{- end -}}
