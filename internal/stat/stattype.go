package stat

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Category is how a statistic computes its value from the actions of its
// masks (public-api-notes §6.2).
type Category string

// The categories. Current ones look at the durable actions under way now;
// historical ones at the actions completed within the time profile; the
// InTimeRange ones and ServiceFactor1 need a time range.
const (
	CurrentNumber                    Category = "CurrentNumber"
	CurrentTime                      Category = "CurrentTime"
	CurrentMaxTime                   Category = "CurrentMaxTime"
	CurrentMinTime                   Category = "CurrentMinTime"
	CurrentAverageTime               Category = "CurrentAverageTime"
	CurrentNumberInTimeRange         Category = "CurrentNumberInTimeRange"
	CurrentState                     Category = "CurrentState"
	TotalNumber                      Category = "TotalNumber"
	TotalTime                        Category = "TotalTime"
	TotalAverageTime                 Category = "TotalAverageTime"
	MaxTime                          Category = "MaxTime"
	MinTime                          Category = "MinTime"
	TotalNumberInTimeRange           Category = "TotalNumberInTimeRange"
	TotalNumberInTimeRangePercentage Category = "TotalNumberInTimeRangePercentage"
	ServiceFactor1                   Category = "ServiceFactor1"
)

var categories = []Category{CurrentNumber, CurrentTime, CurrentMaxTime, CurrentMinTime, CurrentAverageTime,
	CurrentNumberInTimeRange, CurrentState, TotalNumber, TotalTime, TotalAverageTime, MaxTime, MinTime,
	TotalNumberInTimeRange, TotalNumberInTimeRangePercentage, ServiceFactor1}

// current reports whether c looks at actions under way (no time profile).
func (c Category) current() bool { return strings.HasPrefix(string(c), "Current") }

// needsRange reports whether c needs a time range.
func (c Category) needsRange() bool {
	return strings.Contains(string(c), "InTimeRange") || c == ServiceFactor1
}

// needsRel reports whether c divides by the RelMask's actions.
func (c Category) needsRel() bool {
	return c == TotalNumberInTimeRangePercentage || c == ServiceFactor1
}

// Subject is what a statistic counts: each action (DNAction), or each
// agent by its status, the highest-priority action it has (AgentStatus).
type Subject string

// The subjects.
const (
	DNAction    Subject = "DNAction"
	AgentStatus Subject = "AgentStatus"
)

// ObjectType is the kind of object a statistic is about.
type ObjectType string

// The object types, named as Genesys names them.
const (
	Agent       ObjectType = "Agent"
	GroupAgents ObjectType = "GroupAgents"
	Queue       ObjectType = "Queue"
	Tenant      ObjectType = "Tenant"
)

var objectTypes = []ObjectType{Agent, GroupAgents, Queue, Tenant}

// StatType is a configured statistic definition: a stat-type section.
type StatType struct {
	Name     string
	Category Category
	MainMask Mask
	RelMask  Mask // nil unless the category needs one
	Subject  Subject
	Objects  []ObjectType
}

// statTypeKeys are the options of a stat type section.
var statTypeKeys = []string{"Category", "MainMask", "RelMask", "Subject", "Objects", "Description"}

// ParseStatType builds the stat type name from the options of its section:
// Category, MainMask, RelMask (for TotalNumberInTimeRangePercentage and
// ServiceFactor1), Subject (default DNAction), Objects (comma-separated
// object types) and an ignored Description.
func ParseStatType(name string, opts map[string]string) (StatType, error) {
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if !slices.Contains(statTypeKeys, k) {
			return StatType{}, fmt.Errorf("%w: stat type %q: unknown option %q (want %s)", ErrInvalid, name, k, strings.Join(statTypeKeys, ", "))
		}
	}
	st := StatType{Name: name, Category: Category(opts["Category"]), Subject: Subject(opts["Subject"])}
	if st.Subject == "" {
		st.Subject = DNAction
	}
	if err := st.parse(opts); err != nil {
		return StatType{}, fmt.Errorf("stat type %q: %w", name, err)
	}
	return st, nil
}

func (st *StatType) parse(opts map[string]string) error {
	if !slices.Contains(categories, st.Category) {
		return fmt.Errorf("%w: Category %q: unknown", ErrInvalid, st.Category)
	}
	if st.Subject != DNAction && st.Subject != AgentStatus {
		return fmt.Errorf("%w: Subject %q: want DNAction or AgentStatus", ErrInvalid, st.Subject)
	}
	var err error
	if st.MainMask, err = ParseMask(opts["MainMask"]); err != nil {
		return fmt.Errorf("MainMask: %w", err)
	}
	if st.Category.needsRel() {
		if st.RelMask, err = ParseMask(opts["RelMask"]); err != nil {
			return fmt.Errorf("RelMask: %w", err)
		}
	}
	if st.Subject == AgentStatus && !st.Category.current() {
		return fmt.Errorf("%w: Subject AgentStatus needs a Current category", ErrInvalid)
	}
	for item := range strings.SplitSeq(opts["Objects"], ",") {
		t := ObjectType(strings.TrimSpace(item))
		if !slices.Contains(objectTypes, t) {
			return fmt.Errorf("%w: Objects: %q: want Agent, GroupAgents, Queue or Tenant", ErrInvalid, t)
		}
		st.Objects = append(st.Objects, t)
	}
	if st.Category == CurrentState && slices.ContainsFunc(st.Objects, func(t ObjectType) bool { return t != Agent }) {
		return fmt.Errorf("%w: CurrentState applies to Agent objects only", ErrInvalid)
	}
	return nil
}
