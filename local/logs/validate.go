package logs

import (
	"slices"
	"strconv"
	"strings"
)

// AWS's constraints on names and retention, from the CloudWatch Logs API
// model (the LogGroupName, LogGroupNamePattern and LogStreamName shapes:
// botocore's data/logs/2014-03-28/service-2.json). A member that breaks one
// is answered InvalidParameterException "1 validation error detected: Value
// '…' at '<member>' failed to satisfy constraint: …", as AWS words it
// (fluent-plugin-cloudwatch-logs#185 for logStreamNamePrefix,
// aws/serverless-application-model#182 for logGroupNamePrefix,
// serverless/serverless#4850 for an empty logStreamNames).
const (
	maxNameLen = 512
	// maxBatchBytes is PutLogEvents' limit: the UTF-8 bytes of the messages
	// plus eventOverhead per event. A single event may be at most 1 MB
	// (raised from 256 KB), which the batch limit already implies.
	maxBatchBytes  = 1_048_576
	eventOverhead  = 26
	maxBatchEvents = 10_000
	maxPageBytes   = 1_048_576
	maxPageEvents  = 10_000
	maxDescribe    = 50
	maxStreamNames = 100
	// A PutLogEvents batch is rejected when its accepted events span more
	// than this.
	maxBatchSpanMS = 24 * 3600 * 1000
	tooOldMS       = 14 * 24 * 3600 * 1000
	tooNewMS       = 2 * 3600 * 1000
)

// retentionDays is the set PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func checkRetention(days int) error {
	if slices.Contains(retentionDays, days) {
		return nil
	}
	set := make([]string, len(retentionDays))
	for i, d := range retentionDays {
		set[i] = strconv.Itoa(d)
	}
	return validation("'"+strconv.Itoa(days)+"'", "retentionInDays", "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

func isGroupNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/#", c)
}

func validGroupNameChars(name string) bool {
	return strings.IndexFunc(name, func(c rune) bool { return !isGroupNameChar(c) }) < 0
}

func checkGroupName(name string) error { return checkGroupNameAt("logGroupName", name) }

// checkGroupNameAt checks a member whose model shape is LogGroupName
// (logGroupName, logGroupNamePrefix).
func checkGroupNameAt(member, name string) error {
	return checkName(name, member, 1, validGroupNameChars(name), `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
}

// checkGroupNamePattern checks DescribeLogGroups' logGroupNamePattern,
// which may be empty.
func checkGroupNamePattern(pattern string) error {
	return checkName(pattern, "logGroupNamePattern", 0, validGroupNameChars(pattern), `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*`)
}

func checkStreamName(name string) error { return checkStreamNameAt("logStreamName", name) }

// checkStreamNameAt checks a member whose model shape is LogStreamName
// (logStreamName, logStreamNamePrefix, the members of logStreamNames): a
// prefix with a wildcard is refused, not matched against nothing.
func checkStreamNameAt(member, name string) error {
	return checkName(name, member, 1, !strings.ContainsAny(name, ":*"), `Member must satisfy regular expression pattern: [^:*]*`)
}

func checkName(name, member string, minLen int, charsOK bool, pattern string) error {
	switch {
	case len(name) < minLen:
		return validation("''", member, "Member must have length greater than or equal to 1")
	case len(name) > maxNameLen:
		return validation("'"+name+"'", member, "Member must have length less than or equal to 512")
	case !charsOK:
		return validation("'"+name+"'", member, pattern)
	}
	return nil
}

// checkStreamNames checks FilterLogEvents' logStreamNames: 1 to 100 valid
// stream names, when given.
func checkStreamNames(names []string) error {
	switch n := len(names); {
	case names == nil:
		return nil
	case n == 0:
		return validation("'[]'", "logStreamNames", "Member must have length greater than or equal to 1")
	case n > maxStreamNames:
		return validation("'["+strings.Join(names, ", ")+"]'", "logStreamNames", "Member must have length less than or equal to 100")
	}
	for i, name := range names {
		if err := checkStreamNameAt("logStreamNames."+strconv.Itoa(i+1)+".member", name); err != nil {
			return err
		}
	}
	return nil
}

// checkTimes refuses a negative startTime or endTime, which the API model
// bounds at 0 (milliseconds since the epoch).
func checkTimes(start, end *int64) error {
	for _, t := range []struct {
		member string
		v      *int64
	}{{"startTime", start}, {"endTime", end}} {
		if t.v != nil && *t.v < 0 {
			return validation("'"+strconv.FormatInt(*t.v, 10)+"'", t.member, "Member must have value greater than or equal to 0")
		}
	}
	return nil
}
