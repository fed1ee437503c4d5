{{/* The release's base name, short enough for POD-N.STATEFULSET names. */}}
{{- define "parley.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 30 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 30 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels every object carries. */}}
{{- define "parley.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The labels that select the pods of one entry: (dict "root" $ "entry" NAME). */}}
{{- define "parley.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .entry }}
{{- end -}}

{{/* The StatefulSet (and headless Service) of an entry: (dict "root" $ "entry" NAME). */}}
{{- define "parley.sts" -}}
{{- printf "%s-%s" (include "parley.fullname" .root) .entry -}}
{{- end -}}

{{/* The application names of an entry's pods, as a JSON list: (dict "root" $ "entry" NAME). */}}
{{- define "parley.members" -}}
{{- $sts := include "parley.sts" . -}}
{{- $a := index .root.Values.applications .entry -}}
{{- $names := list -}}
{{- range $i := until (int (default 1 $a.replicas)) -}}
{{- $names = append $names (printf "%s-%d" $sts $i) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* The environment variable holding database NAME's DSN. */}}
{{- define "parley.dsnEnv" -}}
{{- printf "PARLEY_DSN_%s" (. | upper | replace "-" "_" | replace "." "_") -}}
{{- end -}}

{{/* The Secret holding the deployment secret, and its key. */}}
{{- define "parley.secretName" -}}
{{- default (printf "%s-secret" (include "parley.fullname" .)) .Values.secret.existingSecret -}}
{{- end -}}

{{/* Where the deployment file is in a pod. */}}
{{- define "parley.configFile" -}}/etc/parley/parley.yaml{{- end -}}
