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
{{- $other := index $root.Values.applications $c -}}
{{- range $j, $m := include "parley.members" (dict "root" $root "entry" $c) | fromJsonArray -}}
{{- /* Of warm-standby chat server pairs, only the primaries are connected to: the backups are found in their entries. */ -}}
{{- if not (and $other.standby (eq $other.type "chat-server") (eq (mod $j 2) 1)) -}}
{{- $conns = append $conns $m -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- $conns = append $conns $c -}}
{{- end -}}
{{- end -}}
{{- $members := include "parley.members" (dict "root" $root "entry" $entry) | fromJsonArray -}}
{{- range $i, $name := $members -}}
{{- $host := printf "%s.%s.%s.svc.%s" $name $sts $root.Release.Namespace $root.Values.clusterDomain -}}
{{- $app := dict "type" $a.type "listen" (printf "%s:%d" $host (int $a.port)) -}}
{{- if $a.adminPort -}}{{- $_ := set $app "admin-listen" (printf "%s:%d" $host (int $a.adminPort)) -}}{{- end -}}
{{- if $a.database -}}{{- $_ := set $app "database" $a.database -}}{{- end -}}
{{- $own := $conns -}}
{{- if $a.standby -}}
{{- /* Pods 2k and 2k+1 are a pair: a chat server's primary names its backup; a stat server's backup connects to its primary. */ -}}
{{- if and (eq $a.type "chat-server") (eq (mod $i 2) 0) (lt (add1 $i) (len $members)) -}}
{{- $_ := set $app "backup" (index $members (add1 $i)) -}}
{{- else if and (eq $a.type "stat-server") (eq (mod $i 2) 1) -}}
{{- $own = append $conns (index $members (sub $i 1)) -}}
{{- end -}}
{{- end -}}
{{- if $own -}}{{- $_ := set $app "connections" $own -}}{{- end -}}
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
