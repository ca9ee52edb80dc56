# SPDX-License-Identifier: MIT
# bash completion for fwrun(8)

_fwrun()
{
	local cur prev words cword split
	_init_completion -s || return

	local opts="--rootfs --name --state-dir --hostname --setenv --ephemeral --reset --diff
		--dry-run --dry-run=json --console --console-log --until --stop-signal --kill-after --timeout
		--restart-on-reboot --status-fd --apparmor --profile --print-profile --load-profile --seccomp
		--cap-drop --cap-add --device --memory-max --pids-max --cpus
		--tap --veth --veth= --force-default-route
		--verbose --quiet --help --version -v -q -h
		--list --json --enter --stop --remove --bind --bind-ro"

	case $prev in
	--rootfs)
		_filedir '@(ext[234]|img|squashfs|sqfs|erofs)'
		return
		;;
	--state-dir)
		_filedir -d
		return
		;;
	--console-log)
		_filedir
		return
		;;
	--until)
		return	# a regex: nothing to offer
		;;
	--name)
		# instances that have a state directory
		COMPREPLY=($(compgen -W "$(ls /var/lib/fwrun 2>/dev/null)" -- "$cur"))
		return
		;;
	--hostname|--setenv)
		return
		;;
	--enter|--stop)
		# running instances
		COMPREPLY=($(compgen -W "$(ls /run/fwrun/running 2>/dev/null)" -- "$cur"))
		return
		;;
	--bind|--bind-ro)
		# SRC on the host ([:DST] is typed by hand)
		_filedir
		return
		;;
	--apparmor)
		COMPREPLY=($(compgen -W "auto on off" -- "$cur"))
		return
		;;
	--seccomp)
		COMPREPLY=($(compgen -W "on off" -- "$cur"))
		return
		;;
	--profile)
		# profiles the kernel holds
		COMPREPLY=($(compgen -W "$(sed 's/ (.*//' /sys/kernel/security/apparmor/profiles 2>/dev/null)" -- "$cur"))
		return
		;;
	--cap-drop|--cap-add)
		local caps
		caps=$(sed -n 's/^#define CAP_\([A-Z_]*\)[[:space:]]*[0-9].*/\1/p' /usr/include/linux/capability.h 2>/dev/null)
		[ -n "$caps" ] || caps="SYS_TIME WAKE_ALARM SYS_MODULE SYS_RAWIO MAC_ADMIN MAC_OVERRIDE SYS_BOOT NET_ADMIN SYS_ADMIN"
		COMPREPLY=($(compgen -W "ALL $caps" -- "${cur^^}"))
		return
		;;
	--device)
		# character and block devices of the host
		COMPREPLY=($(compgen -f -- "${cur:-/dev/}"))
		return
		;;
	--memory-max)
		COMPREPLY=($(compgen -W "256M 512M 1G 2G 4G" -- "$cur"))
		return
		;;
	--pids-max)
		COMPREPLY=($(compgen -W "64 256 1024 4096" -- "$cur"))
		return
		;;
	--cpus)
		COMPREPLY=($(compgen -W "0.5 1 2 4" -- "$cur"))
		return
		;;
	--tap)
		# host interfaces (IF[:INNER[:ADDR/PREFIX]]: complete the IF part)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	--veth)
		return
		;;
	--console)
		COMPREPLY=($(compgen -W "auto pty read-only pipe" -- "$cur"))
		return
		;;
	--stop-signal)
		COMPREPLY=($(compgen -W "TERM INT HUP QUIT USR1 USR2 PWR KILL RTMIN+3" -- "${cur#SIG}"))
		return
		;;
	--kill-after|--timeout)
		COMPREPLY=($(compgen -W "1 5 10 30 60 500ms 2m 1h" -- "$cur"))
		return
		;;
	--status-fd)
		COMPREPLY=($(compgen -W "1 2 3 4 5" -- "$cur"))
		return
		;;
	esac
	$split && return

	# After INIT (the first word that is not an option or an option's
	# argument), everything belongs to the firmware's init.
	local i takes_arg=0 init_at=0
	for ((i = 1; i < cword; i++)); do
		if ((takes_arg)); then
			takes_arg=0
			continue
		fi
		case ${words[i]} in
		--)
			init_at=$((i + 1))
			break
			;;
		--rootfs|--name|--state-dir|--hostname|--setenv|--console|--console-log|--until|--stop-signal|--kill-after|--timeout|--status-fd|--apparmor|--seccomp|--profile|--cap-drop|--cap-add|--tap|--device|--memory-max|--pids-max|--cpus|--enter|--stop|--bind|--bind-ro)
			takes_arg=1
			;;
		-*)
			;;
		*)
			init_at=$i
			break
			;;
		esac
	done
	if ((init_at && cword > init_at)); then
		return	# the init's arguments: nothing we know of
	fi
	if ((init_at && cword == init_at)) || [[ $cur != -* && $init_at -ne 0 ]]; then
		COMPREPLY=($(compgen -W "/sbin/boxinit /bin/sh" -- "$cur"))
		return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	COMPREPLY=($(compgen -W "/sbin/boxinit" -- "$cur"))
}
complete -F _fwrun fwrun
