#!/usr/bin/env bash
# run.sh — the Collector-compatibility suite: every config under configs/ is a Collector config
# written from the Collector's documentation; `llmotlp validate` must load it (exit 0) and print
# exactly the warnings listed in the matching .expect file, positions included. So a key that
# starts being ignored silently, or stops being warned about, fails here.
#
# usage: run.sh path/to/llmotlp [--update] [NAME...]
#   --update  rewrite each .expect from the current output (then review the diff: a warning is
#             only acceptable where the key truly cannot be honoured)
#   NAME      run only configs/NAME.yaml
# Warnings are the "warning: ..." lines of validate's stdout and the warn lines of its log on
# stderr (an unset variable), with the timestamp taken off. Ends with "N passed, M failed".
set -u
BIN=${1:?usage: run.sh path/to/llmotlp [--update] [NAME...]}
shift
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
UPDATE=0
if [ "${1:-}" = "--update" ]; then UPDATE=1; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /tmp/compat.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# What the configs reference: a directory that exists (file_storage, token and password files,
# certificates, socket paths) and variables set, and some deliberately left unset for the
# ${env:VAR:-default} forms.
export COMPAT_DIR=$TMP/data
mkdir -p "$COMPAT_DIR"
printf 'secret-token\n' >"$COMPAT_DIR/token"
printf 'alice\n' >"$COMPAT_DIR/username"
printf 'wonderland\n' >"$COMPAT_DIR/password"
printf 'carol:{SHA}fEqNCco3Yq9h5ZUglD3CZJT4lBs=\n' >"$COMPAT_DIR/htpasswd"
export COMPAT_TOKEN=secret-token
unset COMPAT_API_KEY COMPAT_PASSWORD COMPAT_USER COMPAT_HTTP_ENDPOINT COMPAT_UNSET
unset COMPAT_ENV COMPAT_NAMESPACE COMPAT_TRANSPORT
# A CA and a server certificate it signed, for the configs that serve TLS (prometheus-tls): real
# files, so the configs stay valid should validate start reading them.
if ! (cd "$COMPAT_DIR" && key='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' &&
    openssl req -x509 $key -days 2 -subj /CN=compat-ca -keyout ca.key -out ca.pem &&
    openssl req $key -subj /CN=localhost -keyout server.key -out server.csr &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -out server.pem) >"$TMP/openssl.log" 2>&1; then
    echo "FAIL: openssl could not make the test certificates:"
    sed 's/^/  /' "$TMP/openssl.log"
    exit 1
fi

names=("$@")
if [ ${#names[@]} = 0 ]; then
    for f in "$HERE"/configs/*.yaml; do names+=("$(basename "$f" .yaml)"); done
fi

passed=0
failed=0
for name in "${names[@]}"; do
    yaml=$name.yaml
    expect=$HERE/configs/$name.expect
    # Run from configs/ so that positions read "name.yaml:line:col" wherever the tree is.
    (cd "$HERE/configs" && "$BIN" validate --config "$yaml") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    # validate also logs each warning it prints; a log line is kept only when it says
    # something stdout does not (the unset-variable warnings of loading).
    grep '^warning: ' "$TMP/out" >"$TMP/got"
    grep -P '^\S+\twarn\t' "$TMP/err" | cut -f4- | while IFS= read -r line; do
        grep -qxF "warning: $line" "$TMP/got" || printf 'log warn: %s\n' "$line"
    done >>"$TMP/got"
    if [ "$rc" != 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $name: validate exited $rc"
        sed 's/^/  /' "$TMP/out" "$TMP/err" | head -20
        continue
    fi
    if [ "$UPDATE" = 1 ]; then
        cp "$TMP/got" "$expect"
        passed=$((passed + 1))
        echo "updated $name ($(wc -l <"$expect") warnings)"
        continue
    fi
    if [ ! -f "$expect" ]; then
        failed=$((failed + 1))
        echo "FAIL $name: no $name.expect (run with --update, then review it)"
        continue
    fi
    if diff -u "$expect" "$TMP/got" >"$TMP/diff"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: warnings differ from $name.expect (- expected, + printed)"
        tail -n +3 "$TMP/diff" | sed 's/^/  /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
