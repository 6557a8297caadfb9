# Sourced by the scripts that take a duration (a flag or a setting) and
# hand it to a Go program, so that a bad one is refused before anything is
# built, with the script's own usage.
#
# positive_duration succeeds when $1 is a duration above zero as Go's
# time.ParseDuration reads it (30s, 1m30s, 1.5h, 250ms).
positive_duration() {
  [[ $1 =~ ^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$ && $1 =~ [1-9] ]]
}
