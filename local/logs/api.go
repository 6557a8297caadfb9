package logs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/request-dump/local/logs/filter"
)

// The request and response shapes follow the CloudWatch Logs API model;
// members this service does not use (tags, KMS keys, log classes, linked
// accounts, entities, unmasking) are accepted and ignored.

type groupRef struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
}

// name resolves logGroupName or logGroupIdentifier (a name or an ARN, with
// or without the trailing :*).
func (r groupRef) name() (string, error) {
	switch {
	case r.LogGroupName != nil && r.LogGroupIdentifier != nil:
		return "", invalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive: specify one of them")
	case r.LogGroupName != nil:
		return *r.LogGroupName, checkGroupName(*r.LogGroupName)
	case r.LogGroupIdentifier != nil:
		id := *r.LogGroupIdentifier
		if strings.HasPrefix(id, "arn:") {
			_, after, ok := strings.Cut(id, ":log-group:")
			if !ok {
				return "", invalidParameter("logGroupIdentifier %q is not a log group ARN (arn:aws:logs:<region>:<account>:log-group:<name>)", id)
			}
			id = strings.TrimSuffix(after, ":*")
		}
		return id, checkGroupName(id)
	}
	return "", invalidParameter("Either logGroupName or logGroupIdentifier must be specified.")
}

func required(member string, v *string) error {
	if v == nil {
		return validation("null", member, "Member must not be null")
	}
	return nil
}

// groupName checks a logGroupName member: present and a valid name.
func groupName(v *string) (string, error) {
	if err := required("logGroupName", v); err != nil {
		return "", err
	}
	return *v, checkGroupName(*v)
}

// streamName checks a logStreamName member: present and a valid name.
func streamName(v *string) (string, error) {
	if err := required("logStreamName", v); err != nil {
		return "", err
	}
	return *v, checkStreamName(*v)
}

func checkLimit(limit *int32, maxLimit int) (int, error) {
	if limit == nil {
		return maxLimit, nil
	}
	if *limit < 1 {
		return 0, validation("'"+strconv.Itoa(int(*limit))+"'", "limit", "Member must have value greater than or equal to 1")
	}
	if int(*limit) > maxLimit {
		return 0, validation("'"+strconv.Itoa(int(*limit))+"'", "limit", "Member must have value less than or equal to "+strconv.Itoa(maxLimit))
	}
	return int(*limit), nil
}

func (h *handler) groupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", h.region, h.account, name)
}

type empty struct{}

func (h *handler) createLogGroup(body []byte) (any, error) {
	var in struct {
		LogGroupName *string `json:"logGroupName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	_, err = h.store.createGroup(name)
	return empty{}, err
}

func (h *handler) deleteLogGroup(body []byte) (any, error) {
	var in struct {
		LogGroupName *string `json:"logGroupName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return empty{}, h.store.deleteGroup(name)
}

func (h *handler) putRetentionPolicy(body []byte) (any, error) {
	var in struct {
		LogGroupName    *string `json:"logGroupName"`
		RetentionInDays *int    `json:"retentionInDays"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, validation("null", "retentionInDays", "Member must not be null")
	}
	if err := checkRetention(*in.RetentionInDays); err != nil {
		return nil, err
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	return empty{}, g.setRetention(int32(*in.RetentionInDays))
}

func (h *handler) deleteRetentionPolicy(body []byte) (any, error) {
	var in struct {
		LogGroupName *string `json:"logGroupName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	return empty{}, g.setRetention(0)
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	Arn               string `json:"arn"`
	LogGroupArn       string `json:"logGroupArn,omitempty"`
	RetentionInDays   *int32 `json:"retentionInDays,omitempty"`
	MetricFilterCount *int32 `json:"metricFilterCount,omitempty"`
	StoredBytes       *int64 `json:"storedBytes,omitempty"`
	LogGroupClass     string `json:"logGroupClass,omitempty"`
}

func (h *handler) describeLogGroups(body []byte) (any, error) {
	var in struct {
		LogGroupNamePrefix  *string  `json:"logGroupNamePrefix"`
		LogGroupNamePattern *string  `json:"logGroupNamePattern"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		Limit               *int32   `json:"limit"`
		NextToken           *string  `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil {
		if err := checkGroupNameAt("logGroupNamePrefix", *in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
	}
	if in.LogGroupNamePattern != nil {
		if err := checkGroupNamePattern(*in.LogGroupNamePattern); err != nil {
			return nil, err
		}
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit, err := checkLimit(in.Limit, maxDescribe)
	if err != nil {
		return nil, err
	}
	var after string
	if in.NextToken != nil {
		if after, err = decodeToken(*in.NextToken, "g"); err != nil {
			return nil, err
		}
	}
	ids := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		name, err := groupRef{LogGroupIdentifier: &id}.name()
		if err != nil {
			return nil, err
		}
		ids[name] = true
	}
	groups, err := h.store.sortedGroups()
	if err != nil {
		return nil, err
	}
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	for _, g := range groups {
		switch {
		case in.NextToken != nil && g.name <= after,
			in.LogGroupNamePrefix != nil && !strings.HasPrefix(g.name, *in.LogGroupNamePrefix),
			in.LogGroupNamePattern != nil && !strings.Contains(g.name, *in.LogGroupNamePattern),
			len(ids) > 0 && !ids[g.name]:
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = encodeToken("g", out.LogGroups[limit-1].LogGroupName)
			break
		}
		info := g.info()
		lg := logGroupOut{LogGroupName: info.name, CreationTime: info.created, Arn: h.groupARN(info.name) + ":*"}
		// With logGroupNamePattern, AWS returns only these three members.
		if in.LogGroupNamePattern == nil {
			var zero int32
			lg.LogGroupArn, lg.MetricFilterCount, lg.StoredBytes, lg.LogGroupClass = h.groupARN(info.name), &zero, &info.bytes, "STANDARD"
			if info.retention != 0 {
				lg.RetentionInDays = &info.retention
			}
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	return out, nil
}

func (h *handler) createLogStream(body []byte) (any, error) {
	var in struct {
		LogGroupName  *string `json:"logGroupName"`
		LogStreamName *string `json:"logStreamName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	stream, err := streamName(in.LogStreamName)
	if err != nil {
		return nil, err
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	return empty{}, g.createStream(stream)
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (h *handler) describeLogStreams(body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
		OrderBy             *string `json:"orderBy"`
		Descending          bool    `json:"descending"`
		Limit               *int32  `json:"limit"`
		NextToken           *string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := in.name()
	if err != nil {
		return nil, err
	}
	byTime := false
	if in.OrderBy != nil {
		switch *in.OrderBy {
		case "LogStreamName":
		case "LastEventTime":
			byTime = true
		default:
			return nil, validation("'"+*in.OrderBy+"'", "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
		}
	}
	if in.LogStreamNamePrefix != nil {
		if err := checkStreamNameAt("logStreamNamePrefix", *in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
	}
	if byTime && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	limit, err := checkLimit(in.Limit, maxDescribe)
	if err != nil {
		return nil, err
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	infos := g.streamInfos()
	// sortKey orders streams by name, or by last event time then name; a
	// stream without events sorts as time 0.
	sortKey := func(si streamInfo) string {
		if byTime {
			return fmt.Sprintf("%020d\x00%s", max(si.lastEvent, 0), si.name)
		}
		return si.name
	}
	slices.SortFunc(infos, func(a, b streamInfo) int { return strings.Compare(sortKey(a), sortKey(b)) })
	if in.Descending {
		slices.Reverse(infos)
	}
	var after string
	if in.NextToken != nil {
		if after, err = decodeToken(*in.NextToken, "s"); err != nil {
			return nil, err
		}
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	var last string
	for _, si := range infos {
		k := sortKey(si)
		if in.LogStreamNamePrefix != nil && !strings.HasPrefix(si.name, *in.LogStreamNamePrefix) ||
			in.NextToken != nil && (!in.Descending && k <= after || in.Descending && k >= after) {
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = encodeToken("s", last)
			break
		}
		ls := logStreamOut{
			LogStreamName:       si.name,
			CreationTime:        si.created,
			UploadSequenceToken: fmt.Sprintf("%056d", si.count+1),
			Arn:                 h.groupARN(name) + ":log-stream:" + si.name,
		}
		if si.hasEvents {
			ls.FirstEventTimestamp, ls.LastEventTimestamp, ls.LastIngestionTime = &si.firstEvent, &si.lastEvent, &si.lastIngest
		}
		out.LogStreams = append(out.LogStreams, ls)
		last = k
	}
	return out, nil
}

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

func (h *handler) putLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName  *string      `json:"logGroupName"`
		LogStreamName *string      `json:"logStreamName"`
		LogEvents     []inputEvent `json:"logEvents"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := groupName(in.LogGroupName)
	if err != nil {
		return nil, err
	}
	stream, err := streamName(in.LogStreamName)
	if err != nil {
		return nil, err
	}
	switch n := len(in.LogEvents); {
	case in.LogEvents == nil:
		return nil, validation("null", "logEvents", "Member must not be null")
	case n == 0:
		return nil, validation("'[]'", "logEvents", "Member must have length greater than or equal to 1")
	case n > maxBatchEvents:
		return nil, validation("'["+strconv.Itoa(n)+" events]'", "logEvents", "Member must have length less than or equal to 10000")
	}
	size := 0
	for i, e := range in.LogEvents {
		member := fmt.Sprintf("logEvents.%d.member", i+1)
		switch {
		case e.Timestamp == nil:
			return nil, validation("null", member+".timestamp", "Member must not be null")
		case *e.Timestamp < 0:
			return nil, validation("'"+strconv.FormatInt(*e.Timestamp, 10)+"'", member+".timestamp", "Member must have value greater than or equal to 0")
		case e.Message == nil:
			return nil, validation("null", member+".message", "Member must not be null")
		case *e.Message == "":
			return nil, validation("''", member+".message", "Member must have length greater than or equal to 1")
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	now := nowMS()
	n := len(in.LogEvents)
	tooOld, expired, tooNew := 0, 0, n
	if days := g.retentionDays(); days > 0 {
		cutoff := now - int64(days)*24*3600*1000
		for expired < n && *in.LogEvents[expired].Timestamp < cutoff {
			expired++
		}
	}
	for tooOld < n && *in.LogEvents[tooOld].Timestamp < now-tooOldMS {
		tooOld++
	}
	for tooNew > 0 && *in.LogEvents[tooNew-1].Timestamp > now+tooNewMS {
		tooNew--
	}
	first := max(tooOld, expired)
	var evs []*event
	if first < tooNew {
		if *in.LogEvents[tooNew-1].Timestamp-*in.LogEvents[first].Timestamp > maxBatchSpanMS {
			return nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
		for _, e := range in.LogEvents[first:tooNew] {
			evs = append(evs, &event{ts: *e.Timestamp, ingest: now, msg: *e.Message})
		}
	}
	done, err := g.append(stream, evs, false)
	if !done {
		err = errGroupNotFound()
	}
	if err != nil {
		return nil, err
	}
	out := struct {
		NextSequenceToken     string        `json:"nextSequenceToken"`
		RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
	}{NextSequenceToken: fmt.Sprintf("%056d", now)}
	if tooOld > 0 || expired > 0 || tooNew < n {
		ri := &rejectedInfo{}
		if tooOld > 0 {
			ri.TooOldLogEventEndIndex = &tooOld
		}
		if expired > 0 {
			ri.ExpiredLogEventEndIndex = &expired
		}
		if tooNew < n {
			ri.TooNewLogEventStartIndex = &tooNew
		}
		out.RejectedLogEventsInfo = ri
	}
	return out, nil
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

func (h *handler) getLogEvents(body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamName *string `json:"logStreamName"`
		StartTime     *int64  `json:"startTime"`
		EndTime       *int64  `json:"endTime"`
		NextToken     *string `json:"nextToken"`
		Limit         *int32  `json:"limit"`
		StartFromHead bool    `json:"startFromHead"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := in.name()
	if err != nil {
		return nil, err
	}
	stream, err := streamName(in.LogStreamName)
	if err != nil {
		return nil, err
	}
	q := getQuery{start: minTime, end: maxTime, forward: in.StartFromHead}
	if q.limit, err = checkLimit(in.Limit, maxPageEvents); err != nil {
		return nil, err
	}
	if err := checkTimes(in.StartTime, in.EndTime); err != nil {
		return nil, err
	}
	if in.StartTime != nil {
		q.start = *in.StartTime
	}
	if in.EndTime != nil {
		q.end = *in.EndTime
	}
	if in.NextToken != nil {
		if q.forward, q.after, err = parseGetToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	all, err := g.streamEvents(stream)
	if err != nil {
		return nil, err
	}
	evs := q.get(all)
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: make([]outputEvent, len(evs))}
	for i, e := range evs {
		out.Events[i] = outputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingest}
	}
	switch {
	case len(evs) > 0:
		out.NextForwardToken = getToken(true, evs[len(evs)-1].key())
		out.NextBackwardToken = getToken(false, evs[0].key())
	case in.NextToken == nil:
		out.NextForwardToken, out.NextBackwardToken = getToken(true, key{minTime, 0}), getToken(false, key{minTime, 0})
	case q.forward:
		// At the end: AWS hands back the token it was given.
		out.NextForwardToken = *in.NextToken
		out.NextBackwardToken = getToken(false, key{q.after.ts, q.after.seq + 1})
	default:
		out.NextBackwardToken = *in.NextToken
		out.NextForwardToken = getToken(true, predecessor(*q.after))
	}
	return out, nil
}

// getToken encodes a GetLogEvents token: f/… reads forward after the key,
// b/… backward before it.
func getToken(forward bool, k key) string {
	dir := "b/"
	if forward {
		dir = "f/"
	}
	return dir + strconv.FormatInt(k.ts, 10) + "/" + strconv.FormatUint(k.seq, 10)
}

func parseGetToken(tok string) (forward bool, after *key, err error) {
	bad := invalidParameter("The specified nextToken is invalid.")
	dir, rest, ok := strings.Cut(tok, "/")
	if !ok || dir != "f" && dir != "b" {
		return false, nil, bad
	}
	tsText, seqText, ok := strings.Cut(rest, "/")
	if !ok {
		return false, nil, bad
	}
	ts, err1 := strconv.ParseInt(tsText, 10, 64)
	seq, err2 := strconv.ParseUint(seqText, 10, 64)
	if err1 != nil || err2 != nil {
		return false, nil, bad
	}
	return dir == "f", &key{ts, seq}, nil
}

// predecessor is the greatest key before k, so that "after predecessor(k)"
// includes k.
func predecessor(k key) key {
	switch {
	case k.seq > 0:
		return key{k.ts, k.seq - 1}
	case k.ts > minTime:
		return key{k.ts - 1, math.MaxUint64}
	}
	return k
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// descendingSince is the earliest startTime AWS accepts with
// startFromHead=false: 2024-01-01T00:00:00Z.
var descendingSince = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// maxPatternLen is FilterLogEvents' limit on filterPattern.
const maxPatternLen = 1024

func (h *handler) filterLogEvents(body []byte) (any, error) {
	var in struct {
		groupRef
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       *string  `json:"filterPattern"`
		NextToken           *string  `json:"nextToken"`
		Limit               *int32   `json:"limit"`
		StartFromHead       *bool    `json:"startFromHead"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := in.name()
	if err != nil {
		return nil, err
	}
	if err := checkStreamNames(in.LogStreamNames); err != nil {
		return nil, err
	}
	if in.LogStreamNamePrefix != nil {
		if err := checkStreamNameAt("logStreamNamePrefix", *in.LogStreamNamePrefix); err != nil {
			return nil, err
		}
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive: specify one of them")
	}
	q := filterQuery{start: minTime, end: maxTime, desc: in.StartFromHead != nil && !*in.StartFromHead}
	if q.limit, err = checkLimit(in.Limit, maxPageEvents); err != nil {
		return nil, err
	}
	if err := checkTimes(in.StartTime, in.EndTime); err != nil {
		return nil, err
	}
	if in.StartTime != nil {
		q.start = *in.StartTime
	}
	if in.EndTime != nil {
		q.end = *in.EndTime
	}
	if q.start > q.end {
		return nil, invalidParameter("startTime (%d) must not be after endTime (%d)", q.start, q.end)
	}
	if q.desc && in.NextToken == nil && in.StartTime != nil && *in.StartTime < descendingSince {
		return nil, invalidParameter("startFromHead=false is supported only with a startTime on or after 2024-01-01T00:00:00Z (%d)", descendingSince)
	}
	if in.FilterPattern != nil {
		if len(*in.FilterPattern) > maxPatternLen {
			return nil, validation("'"+*in.FilterPattern+"'", "filterPattern", "Member must have length less than or equal to 1024")
		}
		p, err := filter.Parse(*in.FilterPattern)
		if err != nil {
			var fe *filter.Error
			if errors.As(err, &fe) {
				return nil, invalidParameter("Invalid filter pattern %q: %s (at offset %d)", fe.Pattern, fe.Reason, fe.Offset)
			}
			return nil, err
		}
		if !p.MatchesAll() {
			q.pattern = p
		}
	}
	if in.NextToken != nil {
		if q.desc, q.after, err = parseFilterToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	q.streams = streamSelector(in.LogStreamNames, deref(in.LogStreamNamePrefix))
	g, err := h.store.lookup(name)
	if err != nil {
		return nil, err
	}
	// AWS refuses the whole request when one of logStreamNames is missing,
	// rather than searching the others.
	if !g.hasStreams(in.LogStreamNames) {
		return nil, errStreamNotFound()
	}
	p := g.filter(q)
	out := struct {
		Events             []filteredEvent `json:"events"`
		SearchedLogStreams []struct{}      `json:"searchedLogStreams"`
		NextToken          string          `json:"nextToken,omitempty"`
	}{Events: make([]filteredEvent, len(p.events)), SearchedLogStreams: []struct{}{}}
	for i, e := range p.events {
		out.Events[i] = filteredEvent{
			LogStreamName: e.stream.name,
			Timestamp:     e.ts,
			Message:       e.msg,
			IngestionTime: e.ingest,
			EventID:       fmt.Sprintf("%d%020d", e.ts, e.seq),
		}
	}
	if p.next != nil {
		out.NextToken = encodeToken("f", getToken(!q.desc, *p.next))
	}
	return out, nil
}

// parseFilterToken reads a FilterLogEvents token: the direction of the
// first request and the key of the last event returned.
func parseFilterToken(tok string) (desc bool, after *key, err error) {
	s, err := decodeToken(tok, "f")
	if err != nil {
		return false, nil, err
	}
	forward, after, err := parseGetToken(s)
	return !forward, after, err
}

// encodeToken makes an opaque pagination token of a kind ("g" groups, "s"
// streams, "f" filter) and a position.
func encodeToken(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeToken(tok, kind string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	pos, ok := strings.CutPrefix(string(raw), kind+":")
	if err != nil || !ok || pos == "" {
		return "", invalidParameter("The specified nextToken is invalid.")
	}
	return pos, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
