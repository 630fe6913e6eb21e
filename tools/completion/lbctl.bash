# bash completion for lbctl                                -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Commands, their arguments and options come from `lbctl --commands`, which
# lbctl generates from its own command table, so this file never needs to
# change when a command is added. VIPs and reals are completed from the
# running daemon (`lbctl vip list`), interface names from /sys/class/net.
#
# Install: copy to /usr/share/bash-completion/completions/lbctl, or
# `source tools/completion/lbctl.bash`.

# The table of the lbctl binary being completed, cached per binary.
_lbctl_table() {
	local bin=$1
	if [[ ${_lbctl_table_bin-} != "$bin" ]]; then
		_lbctl_table_text=$("$bin" --commands 2>/dev/null) || return 1
		_lbctl_table_bin=$bin
	fi
	printf '%s\n' "$_lbctl_table_text"
}

# Option specs ("--name" or "--name=METAVAR") of the command named by
# WORDS ("" for none), followed by the global ones.
_lbctl_option_specs() {
	awk -F'\t' -v c="$2" '$1 == c || $1 == "" {
		n = split($3, o, " ")
		for (i = 1; i <= n; i++)
			print o[i]
	}' <<<"$1"
}

# The metavar of option NAME among SPECS; "" for a flag, "?" if unknown.
_lbctl_metavar() {
	local name=$1 spec
	shift
	for spec in "$@"; do
		case $spec in
		"$name") echo ""; return ;;
		"$name="*) echo "${spec#*=}"; return ;;
		esac
	done
	echo "?"
}

# Values for an option's METAVAR: choices ("a|b"), files for PATH, the
# daemon's VIPs for VIP (sessions --vip).
_lbctl_values() {
	local metavar=$1 cur=$2
	case $metavar in
	PATH) compgen -f -- "$cur" ;;
	VIP) compgen -W "$(_lbctl_daemon_names "$_lbctl_bin" "$_lbctl_socket" "")" -- "$cur" ;;
	\[*\]) ;;
	*"|"*) compgen -W "${metavar//|/ }" -- "$cur" ;;
	esac
}

# The daemon's FULLNAT local addresses (laddr del).
_lbctl_daemon_laddrs() {
	local bin=$1 socket=$2 args=()
	[[ -n $socket ]] && args=(--socket "$socket")
	"$bin" "${args[@]}" laddr list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# VIPs, or with a VIP the reals of that VIP, from the daemon.
_lbctl_daemon_names() {
	local bin=$1 socket=$2 vip=$3 args=()
	[[ -n $socket ]] && args=(--socket "$socket")
	"$bin" "${args[@]}" vip list 2>/dev/null | awk -v vip="$vip" '
		NR == 1 { next }
		/^[^ ]/ { cur = $1; if (vip == "") print $1; next }
		vip != "" && cur == vip && $1 == "->" { print $2 }'
}

_lbctl() {
	local bin=${COMP_WORDS[0]} table line cur i w words=() typed=()
	local socket="" cmd="" specs=() spec metavar nargs argnames n
	table=$(_lbctl_table "$bin") || return 0

	# Split the line ourselves: bash breaks words at ':' and '=', which
	# VIPs ("10.0.0.10:80/tcp") and options (--weight=5) contain.
	line=${COMP_LINE:0:COMP_POINT}
	read -ra words <<<"$line"
	[[ $line =~ [[:space:]]$ ]] && words+=("")
	cur=${words[${#words[@]} - 1]}

	# The words before the cursor: command words and arguments, with the
	# options and their values set aside.
	mapfile -t specs < <(_lbctl_option_specs "$table" "")
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if [[ $w == --* ]]; then
			metavar=$(_lbctl_metavar "${w%%=*}" "${specs[@]}")
			if [[ $w != *=* && -n $metavar && $metavar != "?" && $metavar != \[* ]]; then
				((i++))
				[[ $w == --socket ]] && socket=${words[i]-}
			fi
			[[ $w == --socket=* ]] && socket=${w#*=}
			continue
		fi
		typed+=("$w")
		# Once the words name a command, its options count too.
		if [[ -z $cmd ]] && awk -F'\t' -v t="${typed[*]}" \
			'$1 == t { f = 1 } END { exit !f }' <<<"$table"; then
			cmd="${typed[*]}"
			mapfile -t specs < <(_lbctl_option_specs "$table" "$cmd")
		fi
	done

	COMPREPLY=()
	_lbctl_bin=$bin
	_lbctl_socket=$socket
	# A value: --opt=VALUE, or the word after an option that takes one.
	if [[ $cur == --*=* ]]; then
		metavar=$(_lbctl_metavar "${cur%%=*}" "${specs[@]}")
		mapfile -t COMPREPLY < <(_lbctl_values "$metavar" "${cur#*=}")
		return 0
	fi
	if [[ ${#words[@]} -ge 3 && ${words[${#words[@]} - 2]} == --* ]]; then
		w=${words[${#words[@]} - 2]}
		metavar=$(_lbctl_metavar "$w" "${specs[@]}")
		if [[ $w != *=* && -n $metavar && $metavar != "?" && $metavar != \[* ]]; then
			mapfile -t COMPREPLY < <(_lbctl_values "$metavar" "$cur")
			return 0
		fi
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "${specs[@]%%=*}")" -- "$cur")
	elif [[ -z $cmd ]]; then
		# The next command word after those typed so far.
		n=${#typed[@]}
		mapfile -t COMPREPLY < <(compgen -W "$(awk -F'\t' -v t="${typed[*]}" -v n="$n" '
			$1 != "" {
				split($1, w, " ")
				p = ""
				for (i = 1; i <= n; i++)
					p = p (i > 1 ? " " : "") w[i]
				if (p == t && (n + 1) in w && !seen[w[n + 1]]++)
					print w[n + 1]
			}' <<<"$table")" -- "$cur")
	else
		# The command's next positional argument.
		argnames=$(awk -F'\t' -v c="$cmd" '$1 == c { print $2 }' <<<"$table")
		read -ra argnames <<<"$argnames"
		nargs=$((${#typed[@]} - $(wc -w <<<"$cmd")))
		case ${argnames[nargs]-} in
		VIP) mapfile -t COMPREPLY < <(compgen -W "$(_lbctl_daemon_names "$bin" "$socket" "")" -- "$cur") ;;
		REAL) mapfile -t COMPREPLY < <(compgen -W "$(_lbctl_daemon_names "$bin" "$socket" "${typed[${#typed[@]} - 1]}")" -- "$cur") ;;
		IFNAME) mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ;;
		ADDR) [[ $cmd == "laddr del" ]] &&
			mapfile -t COMPREPLY < <(compgen -W "$(_lbctl_daemon_laddrs "$bin" "$socket")" -- "$cur") ;;
		esac
	fi

	# bash completes only what follows the last ':' of the word.
	if [[ $cur == *:* ]]; then
		w=${cur%"${cur##*:}"}
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$w"}
		done
	fi
	return 0
}

complete -F _lbctl lbctl
