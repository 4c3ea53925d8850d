package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/argoproj/gitops-engine/pkg/diff"
	"github.com/argoproj/gitops-engine/pkg/health"
	log "github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	applicationpkg "github.com/argoproj/argo-cd/v3/pkg/apiclient/application"
	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
)

// The test files of a resource_customizations/<group>/<kind> folder, in Argo CD's own format
// (util/lua/health_test.go and util/lua/custom_actions_test.go read the same structures).
type healthTests struct {
	Tests []struct {
		InputPath    string              `json:"inputPath"`
		HealthStatus health.HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

type actionTests struct {
	DiscoveryTests []struct {
		InputPath string                 `json:"inputPath"`
		Result    []appv1.ResourceAction `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action               string            `json:"action"`
		InputPath            string            `json:"inputPath"`
		ExpectedOutputPath   string            `json:"expectedOutputPath"`
		ExpectedErrorMessage string            `json:"expectedErrorMessage"`
		Parameters           map[string]string `json:"parameters"`
	} `json:"actionTests"`
}

// overridesFromFolder turns a resource_customizations/<group>/<kind> folder into the override Argo CD
// would hold for it, keyed "<group>/<kind>" like util/lua.GetConfigMapKey.
func overridesFromFolder(dir string) (map[string]appv1.ResourceOverride, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	key := filepath.Base(filepath.Dir(abs)) + "/" + filepath.Base(abs)
	healthLua, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return nil, err
	}
	override := appv1.ResourceOverride{HealthLua: string(healthLua)}
	discovery, err := os.ReadFile(filepath.Join(dir, "actions", "discovery.lua"))
	if err == nil {
		actions := appv1.ResourceActions{ActionDiscoveryLua: string(discovery)}
		scripts, err := filepath.Glob(filepath.Join(dir, "actions", "*", "action.lua"))
		if err != nil {
			return nil, err
		}
		sort.Strings(scripts)
		for _, script := range scripts {
			body, err := os.ReadFile(script)
			if err != nil {
				return nil, err
			}
			name := filepath.Base(filepath.Dir(script))
			actions.Definitions = append(actions.Definitions, appv1.ResourceActionDefinition{Name: name, ActionLua: string(body)})
		}
		encoded, err := yaml.Marshal(actions)
		if err != nil {
			return nil, err
		}
		override.Actions = string(encoded)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return map[string]appv1.ResourceOverride{key: override}, nil
}

func readObject(path string) (*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// readExpected reads an expected action output: one object (an old-style action) or a list of
// {unstructuredObj: ...} (a new-style one), as Argo CD's getExpectedObjectList does.
func readExpected(path string) ([]unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '-' {
		var list []map[string]any
		if err := yaml.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		items := []unstructured.Unstructured{}
		for _, item := range list {
			obj, ok := item["unstructuredObj"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: an item without unstructuredObj", path)
			}
			items = append(items, unstructured.Unstructured{Object: obj})
		}
		return items, nil
	}
	obj, err := readObject(path)
	if err != nil {
		return nil, err
	}
	return []unstructured.Unstructured{*obj}, nil
}

// retryStamp is the value the retry action writes: the current UTC time to the second.
var retryStamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

const retryAnnotation = "sagemaker-guardrails.dev/retry"

// stampNormalizer replaces a well-formed retry time stamp by a fixed one before diffing, the way
// Argo CD's testNormalizer treats the time stamps other actions write. A malformed one is kept, so
// the diff shows it.
type stampNormalizer struct{}

func (stampNormalizer) Normalize(un *unstructured.Unstructured) error {
	if un == nil || un.GetKind() != "GuardedEndpoint" {
		return nil
	}
	annotations := un.GetAnnotations()
	if stamp, ok := annotations[retryAnnotation]; ok && retryStamp.MatchString(stamp) {
		annotations[retryAnnotation] = "0001-01-01T00:00:00Z"
		un.SetAnnotations(annotations)
	}
	return nil
}

type tally struct{ passed, failed int }

func (t *tally) check(name string, err error) {
	if err != nil {
		t.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	t.passed++
	fmt.Printf("PASS %s\n", name)
}

func testCommand(dirs []string) error {
	if len(dirs) == 0 {
		return errors.New("test: name at least one resource_customizations/<group>/<kind> folder")
	}
	log.SetLevel(log.WarnLevel)
	var t tally
	for _, dir := range dirs {
		if err := testFolder(&t, dir); err != nil {
			return err
		}
	}
	fmt.Printf("%d passed, %d failed\n", t.passed, t.failed)
	if t.failed > 0 || t.passed == 0 {
		return fmt.Errorf("%d of %d checks failed", t.failed, t.passed+t.failed)
	}
	return nil
}

func testFolder(t *tally, dir string) error {
	overrides, err := overridesFromFolder(dir)
	if err != nil {
		return err
	}
	var hTests healthTests
	if err := readStrict(filepath.Join(dir, "health_test.yaml"), &hTests); err != nil {
		return err
	}
	// Built-in scripts run with the Lua standard libraries (upstream's test does the same); scripts
	// from argocd-cm run without them unless useOpenLibs is set. Both must pass.
	for _, openLibs := range []bool{true, false} {
		mode := map[bool]string{true: "builtin", false: "argocd-cm"}[openLibs]
		for _, test := range hTests.Tests {
			name := fmt.Sprintf("%s/health/%s", mode, test.InputPath)
			t.check(name, func() error {
				obj, err := readObject(filepath.Join(dir, test.InputPath))
				if err != nil {
					return err
				}
				vm := lua.VM{ResourceOverrides: overrides, UseOpenLibs: openLibs}
				script, _, err := vm.GetHealthScript(obj)
				if err != nil {
					return err
				}
				if script == "" {
					return errors.New("no health script found for the object")
				}
				result, err := vm.ExecuteHealthLua(obj, script)
				if err != nil {
					return err
				}
				if *result != test.HealthStatus {
					return fmt.Errorf("health %+v, want %+v", *result, test.HealthStatus)
				}
				return nil
			}())
		}
	}
	actionsFile := filepath.Join(dir, "actions", "action_test.yaml")
	if _, err := os.Stat(actionsFile); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var aTests actionTests
	if err := readStrict(actionsFile, &aTests); err != nil {
		return err
	}
	actionsDir := filepath.Join(dir, "actions")
	for _, openLibs := range []bool{true, false} {
		mode := map[bool]string{true: "builtin", false: "argocd-cm"}[openLibs]
		for _, test := range aTests.DiscoveryTests {
			t.check(fmt.Sprintf("%s/discovery/%s", mode, test.InputPath), func() error {
				obj, err := readObject(filepath.Join(actionsDir, test.InputPath))
				if err != nil {
					return err
				}
				vm := lua.VM{ResourceOverrides: overrides, UseOpenLibs: openLibs}
				scripts, err := vm.GetResourceActionDiscovery(obj)
				if err != nil {
					return err
				}
				result, err := vm.ExecuteResourceActionDiscovery(obj, scripts)
				if err != nil {
					return err
				}
				return sameActions(result, test.Result)
			}())
		}
	}
	for _, test := range aTests.ActionTests {
		// Actions always run without the standard libraries, as in the API server.
		t.check(fmt.Sprintf("actions/%s/%s", test.Action, test.InputPath), func() error {
			return runActionTest(overrides, actionsDir, test.Action, test.InputPath, test.ExpectedOutputPath, test.ExpectedErrorMessage, test.Parameters)
		}())
	}
	return nil
}

func sameActions(got, want []appv1.ResourceAction) error {
	key := func(a appv1.ResourceAction) string {
		encoded, _ := json.Marshal(a)
		return string(encoded)
	}
	wanted := map[string]bool{}
	for _, a := range want {
		wanted[key(a)] = true
	}
	for _, a := range got {
		if !wanted[key(a)] {
			return fmt.Errorf("discovered %s, not in the expected %v", key(a), want)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("discovered %d actions %v, want %d %v", len(got), got, len(want), want)
	}
	return nil
}

func runActionTest(overrides map[string]appv1.ResourceOverride, dir, action, input, expectedPath, expectedError string, parameters map[string]string) error {
	vm := lua.VM{ResourceOverrides: overrides}
	source, err := readObject(filepath.Join(dir, input))
	if err != nil {
		return err
	}
	definition, err := vm.GetResourceAction(source, action)
	if err != nil {
		return err
	}
	var params []*applicationpkg.ResourceActionParameters
	for k, v := range parameters {
		name, value := k, v
		params = append(params, &applicationpkg.ResourceActionParameters{Name: &name, Value: &value})
	}
	results, err := vm.ExecuteResourceAction(source, definition.ActionLua, params)
	if expectedError != "" {
		if err == nil || err.Error() != expectedError {
			return fmt.Errorf("error %v, want %q", err, expectedError)
		}
		return nil
	}
	if err != nil {
		return err
	}
	expected, err := readExpected(filepath.Join(dir, expectedPath))
	if err != nil {
		return err
	}
	if len(results) != len(expected) {
		return fmt.Errorf("%d impacted resources, want %d", len(results), len(expected))
	}
	for _, result := range results {
		got := result.UnstructuredObj
		var want *unstructured.Unstructured
		for i := range expected {
			e := &expected[i]
			if e.GroupVersionKind() == got.GroupVersionKind() && e.GetName() == got.GetName() && e.GetNamespace() == got.GetNamespace() {
				want = e
			}
		}
		if want == nil {
			return fmt.Errorf("impacted %s %s/%s is not in %s", got.GetKind(), got.GetNamespace(), got.GetName(), expectedPath)
		}
		if result.K8SOperation == lua.PatchOperation && (got.GroupVersionKind() != source.GroupVersionKind() || got.GetName() != source.GetName() || got.GetNamespace() != source.GetNamespace()) {
			return errors.New("a patch must target the source object")
		}
		d, err := diff.Diff(want, got, diff.WithNormalizer(stampNormalizer{}))
		if err != nil {
			return err
		}
		if d.Modified {
			return fmt.Errorf("output differs from %s:\n got: %s\nwant: %s", expectedPath, d.NormalizedLive, d.PredictedLive)
		}
	}
	return nil
}

func readStrict(path string, into any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(raw, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
