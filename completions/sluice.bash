# bash completion for sluice: commands, each command's options (the lists
# its --help prints; tests/test_completion.sh checks they agree) and, after
# -t/--target, the target names of the project file (./nodestream.yaml or
# the -p/--project FILE on the line). Installed as
# ${datarootdir}/bash-completion/completions/sluice; or: source this file.

# _sluice_project_targets FILE: the names under the top-level `targets:`
# mapping of a project file, one a line.
_sluice_project_targets()
{
	[ -r "$1" ] || return 0
	awk '
		/^[ \t]*(#|$)/ { next }
		/^[^ \t]/ {
			if (in_t) exit
			if ($0 ~ /^targets:[ \t]*(#.*)?$/) in_t = 1
			next
		}
		in_t {
			match($0, /^ */)
			if (ind == 0) ind = RLENGTH
			if (RLENGTH != ind) next
			key = substr($0, ind + 1)
			if (key ~ /^"/) { sub(/^"/, "", key); sub(/".*/, "", key) }
			else if (key ~ /^'\''/) { sub(/^'\''/, "", key); sub(/'\''.*/, "", key) }
			else { sub(/:([ \t].*)?$/, "", key) }
			if (key != "" && key !~ /^- /) print key
		}' "$1"
}

_sluice()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=""
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="run show validate export schema print migrate migrations new scaffold remove copy audit demo help version"
	COMPREPLY=()

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return 0
	fi

	# The command, and its subcommand for print / migrations / help.
	local cmd=${COMP_WORDS[1]} first=2
	case $cmd in
	print | migrations | help | audit)
		if [ "$COMP_CWORD" -eq 2 ]; then
			case $cmd in
			print) COMPREPLY=($(compgen -W "schema" -- "$cur")) ;;
			audit) COMPREPLY=($(compgen -W "ttls" -- "$cur")) ;;
			migrations) COMPREPLY=($(compgen -W "show" -- "$cur")) ;;
			help) COMPREPLY=($(compgen -W "steps" -- "$cur")) ;;
			esac
			return 0
		fi
		cmd="$cmd ${COMP_WORDS[2]}"
		first=3
		;;
	esac

	local opts=""
	case $cmd in
	run)
		opts="-a --annotations --annotation --config -t --target -p --project
		      --strict -s --step-outbox-size --batch-size --threads --shard
		      --shard-index --shard-key -j --json --no-progress
		      --progress-interval --metrics-interval-in-seconds
		      -r --reporting-frequency --auto-migrate -v -vv -vvv -q --quiet
		      --ansi --no-ansi -n --no-interaction -V --version -h --help
		      --metrics-file --prometheus --prometheus-listen-port
		      --prometheus-listen-address --prometheus-certfile
		      --prometheus-keyfile --storage-backend --from-start
		      --checkpoint-interval --plugin" ;;
	validate)
		opts="-a --annotations --annotation --config -t --target -p --project
		      --strict --plugin -h --help" ;;
	show)
		opts="-p --project -s --scope -j --json -v --verbose -q -n --ansi
		      --no-ansi -V --version -h --help" ;;
	"print schema")
		opts="-p --project -f --format -O --overrides -o --out -h --help" ;;
	"migrations show")
		opts="-p --project -t --target -h --help" ;;
	new) opts="-d --database --uri -h --help" ;;
	scaffold) opts="-s --scope -p --project -d --database -h --help" ;;
	remove) opts="-p --project -h --help" ;;
	"audit ttls") opts="-p --project -h --help" ;;
	copy)
		opts="-f --from -t --to --node --relationship --type --all --batch-size
		      -p --project -j --json --preload-nodes -c --concurrency-limit
		      --step-outbox-size --flush-concurrency --connector-option
		      --retriever-option --shard-size -r --reporting-frequency
		      --metrics-interval-in-seconds --prometheus
		      --prometheus-listen-port --prometheus-listen-address
		      --prometheus-certfile --prometheus-keyfile -q --quiet -h --help" ;;
	schema) opts="--format --plugin --help" ;;
	export | migrate) opts="--help" ;;
	demo) opts="--tasks --items" ;;
	*) return 0 ;;
	esac

	# The project file: -p FILE / --project FILE / --project=FILE on the line.
	local project=nodestream.yaml i w
	for ((i = first; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-p | --project)
			# bash splits --project=FILE at the = (COMP_WORDBREAKS).
			if [ "${COMP_WORDS[i + 1]}" = "=" ]; then
				project=${COMP_WORDS[i + 2]}
			else
				project=${COMP_WORDS[i + 1]}
			fi
			;;
		--project=*) project=${w#--project=} ;;
		esac
	done
	project=${project/#\~/$HOME}

	if [ "$cmd" = copy ]; then
		case $prev in
		-f | --from | -t | --to)
			COMPREPLY=($(compgen -W "$(_sluice_project_targets "$project")" -- "$cur"))
			return 0
			;;
		-d | --database)
			COMPREPLY=($(compgen -W "sqlite postgresql neo4j" -- "$cur"))
			return 0
			;;
		esac
	fi
	case $prev in
	-d | --database)
		COMPREPLY=($(compgen -W "sqlite postgresql neo4j" -- "$cur"))
		return 0
		;;
	-t | --target)
		COMPREPLY=($(compgen -W "$(_sluice_project_targets "$project")" -- "$cur"))
		return 0
		;;
	-p | --project | --config | -O | --overrides | -o | --out | --metrics-file | \
		--prometheus-certfile | --prometheus-keyfile)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	-f | --format)
		if [ "$cmd" = schema ]; then
			COMPREPLY=($(compgen -W "plain json dot" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "plain graphql cypheresque" -- "$cur"))
		fi
		return 0
		;;
	-a | --annotations | --annotation | -s | --step-outbox-size | --batch-size | \
		--threads | --shard | --shard-index | --shard-key | --progress-interval | \
		--metrics-interval-in-seconds | -r | --reporting-frequency | --tasks | --items | \
		--prometheus-listen-port | --prometheus-listen-address)
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi
	case $cmd in
	export | "migrations show") ;;
	*) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
	return 0
}
complete -o filenames -o bashdefault -F _sluice sluice
