# Sourced by the scripts that start, stop or reuse the local stack.
#
# local_aws_pid prints the pid in .local/local-aws.pid when it names a live
# local-aws, and fails otherwise: the file outlives a stack that died (or a
# reboot), and its pid may now be another program's. It reads
# /proc/<pid>/comm, or asks ps where there is no /proc.
local_aws_pid() {
  local pid
  pid=$(cat .local/local-aws.pid 2>/dev/null) && [ -n "$pid" ] || return 1
  case $(cat "/proc/$pid/comm" 2>/dev/null || ps -p "$pid" -o comm= 2>/dev/null || true) in
    *local-aws) echo "$pid" ;;
    *) return 1 ;;
  esac
}
