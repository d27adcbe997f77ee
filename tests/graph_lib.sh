# Shell helpers of the graph tests, sourced after tap.sh.

# strip FILE: a `sluice export` without the timestamps, sorted (perl, not
# sed -E: glibc's regex took ten times as long on a large export)
strip() {
  perl -pe 's/"last_ingested(?:_by_[a-z_]+)?_at":"[^"]*",?//g; s/,\}/}/g' "$1" | sort
}

# fresh NAME: an empty PostgreSQL database NAME on the server at $URI;
# prints its URI
fresh() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$URI/postgres" \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "$URI/$1"
}
