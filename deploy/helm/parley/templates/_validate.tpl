{{/*
The checks of check-config a template can make, failing `helm template`
and `helm install` with check-config's own message (the file named as the
pods read it) instead of a crash loop: an unknown application type, option
section or option, a connection to no application, a database that does
not exist or has no DSN. Values out of range are left to check-config in
the pods (and to the chart's tests). files/options.yaml lists the options;
internal/config's tests keep it current.
*/}}
{{- define "parley.validate" -}}
{{- if .Values.validate -}}
{{- $root := . -}}
{{- $file := include "parley.configFile" . -}}
{{- $known := .Files.Get "files/options.yaml" | fromYaml -}}
{{- range $name, $db := .Values.databases -}}
{{- if not (or $db.dsnSecret $db.dsn) -}}
{{- fail (printf "%s: database %q: dsn is empty" $file $name) -}}
{{- end -}}
{{- end -}}
{{- $members := list -}}
{{- range $entry, $_ := .Values.applications -}}
{{- $members = concat $members (include "parley.members" (dict "root" $root "entry" $entry) | fromJsonArray) -}}
{{- end -}}
{{- range $entry, $a := .Values.applications -}}
{{- $first := include "parley.members" (dict "root" $root "entry" $entry) | fromJsonArray | first -}}
{{- $where := printf "%s: application %q" $file $first -}}
{{- $types := index $known "options" -}}
{{- if not (hasKey $types (toString $a.type)) -}}
{{- fail (printf "%s: type = %q: unknown application type (want %s)" $where (toString $a.type) $known.types) -}}
{{- end -}}
{{- if eq (toString $a.type) "application-cluster" -}}
{{- fail (printf "%s: type = application-cluster: an application cluster runs no process, so the chart has no entry for one; connect the interaction proxies to the interaction server entries directly (docs/deploy.md)" $where) -}}
{{- end -}}
{{- if and $a.database (not (hasKey $root.Values.databases $a.database)) -}}
{{- fail (printf "%s: database = %s: no such database in databases" $where $a.database) -}}
{{- end -}}
{{- range $c := $a.connections -}}
{{- if not (or (hasKey $root.Values.applications $c) (has $c $members)) -}}
{{- fail (printf "%s: connections = %s: no such application" $where $c) -}}
{{- end -}}
{{- end -}}
{{- $t := index $types $a.type -}}
{{- range $section, $opts := $a.options -}}
{{- $key := $section -}}
{{- if contains ":" $section -}}{{- $key = printf "%s:" (splitList ":" $section | first) -}}{{- end -}}
{{- if and (not (hasKey $t.sections $key)) (hasKey $t.sections "*") -}}
{{- $key = "*" -}}
{{- end -}}
{{- if not (hasKey $t.sections $key) -}}
{{- fail (printf "%s: [%s]: unknown section for %s (want %s)" $where $section $a.type $t.want) -}}
{{- end -}}
{{- $allowed := index $t.sections $key -}}
{{- if not (has "*" $allowed) -}}
{{- range $opt, $_ := $opts -}}
{{- if not (has $opt $allowed) -}}
{{- fail (printf "%s: [%s] %s: unknown option" $where $section $opt) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
