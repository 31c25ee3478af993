{{/* The chart's name, overridable. */}}
{{- define "ocspwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: the release name, with the chart's name unless it already contains it. */}}
{{- define "ocspwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ocspwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocspwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ocspwatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ocspwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The web config Secret's name: the user's, or the chart's when web.config is set; empty when there is none. */}}
{{- define "ocspwatch.webConfigSecret" -}}
{{- if .Values.web.existingSecret }}
{{- .Values.web.existingSecret }}
{{- else if .Values.web.config }}
{{- printf "%s-web-config" (include "ocspwatch.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
TOML rendering of the agent's configuration. Helm reads every YAML
number as a float64, so whole numbers are printed as integers; strings
are JSON-quoted, which is also a valid TOML basic string.
*/}}
{{- define "ocspwatch.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . }}{{ . }}{{ else }}{{ toJson . }}{{ end }}
{{- end }}

{{- define "ocspwatch.toml.value" -}}
{{- if kindIs "map" . -}}
{ {{- $first := true }}{{ range $k, $v := . }}{{ if not $first }},{{ end }}{{ $first = false }} {{ include "ocspwatch.toml.key" $k }} = {{ include "ocspwatch.toml.value" $v }}{{ end }} }
{{- else if kindIs "slice" . -}}
[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "ocspwatch.toml.value" $v }}{{ end }}]
{{- else if kindIs "string" . -}}
{{ toJson . }}
{{- else if kindIs "bool" . -}}
{{ . }}
{{- else if and (kindIs "float64" .) (eq (floor .) .) -}}
{{ int64 . }}
{{- else if kindIs "invalid" . -}}
{{ fail "ocspwatch: a null value in config cannot be written as TOML; remove the key instead" }}
{{- else -}}
{{ . }}
{{- end }}
{{- end }}

{{/* key = value lines for a table's non-table entries; nulls mean "unset" and are left out. */}}
{{- define "ocspwatch.toml.keys" -}}
{{- range $k, $v := . }}
{{- if and (not (kindIs "map" $v)) (not (kindIs "invalid" $v)) }}
{{ include "ocspwatch.toml.key" $k }} = {{ include "ocspwatch.toml.value" $v }}
{{- end }}
{{- end }}
{{- end }}

{{/* The whole ocspwatch.toml: top-level keys, then [tables], then one [[target]] per target. */}}
{{- define "ocspwatch.toml" -}}
# Rendered by the ocspwatch Helm chart from .Values.config and .Values.targets.
{{- include "ocspwatch.toml.keys" .Values.config }}
{{- range $k, $v := .Values.config }}
{{- if kindIs "map" $v }}

[{{ include "ocspwatch.toml.key" $k }}]
{{- range $kk, $vv := $v }}
{{- if not (kindIs "invalid" $vv) }}
{{ include "ocspwatch.toml.key" $kk }} = {{ include "ocspwatch.toml.value" $vv }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.targets }}

[[target]]
{{- range $k, $v := . }}
{{- if not (kindIs "invalid" $v) }}
{{ include "ocspwatch.toml.key" $k }} = {{ include "ocspwatch.toml.value" $v }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
