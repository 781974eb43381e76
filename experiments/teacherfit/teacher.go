package teacherfit

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/ensemble"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/imagenet"
	"compactv4/internal/kerasweights"
	"compactv4/internal/model"
	"compactv4/internal/teacherrows"
)

// memberPattern matches the teacher's ensemble-member files in the manifest.
const memberPattern = "data_ensemble_model/ensemble_model_member*.keras"

// weightFiles are the Keras ImageNet weight files of the trunk and the task-driven networks
// (keras.applications' names; outside the V4 data, fetched by `replicate data fetch -weights`).
var weightFiles = []string{
	"resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
	"vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
}

// unmappable are the task-driven networks whose rows cannot be computed, with the reason.
var unmappable = []struct{ Name, Reason string }{
	{"ResNet50-robust", "its weights are a PyTorch file and the paper does not state which layer (\"a middle layer\") is mapped to V4"},
	{"CORnet-S", "its weights are a PyTorch file and the paper does not state which layer (\"a middle layer\") is mapped to V4"},
}

// teacherStatus says which of the teacher's inputs this copy of the data lacks.
type teacherStatus struct {
	Members        int      // member files in the manifest
	MissingMembers []string // of them, the ones not present
	// Weights says why the trunk's Keras weight file could not be used (missing or corrupt);
	// nil when it was loaded or not looked for (members missing). VGG19 says the same of
	// VGG19's, looked for once the teacher is loaded.
	Weights, VGG19 error
}

// teacherSource is where a run gets the teacher's networks: Open returns them, or nil with the
// status saying which files are missing (recorded as not runnable in d); Images > 0 fits the
// teacher's rows on the first Images images of each session instead of all. realTeacher opens
// the files (openTeacher) and uses every image; the tests give narrowed networks with random
// weights and fewer images.
type teacherSource struct {
	Open   func(env *harness.Env, d *eval.Data, weightsDir string) (*openedTeacher, teacherStatus, error)
	Images int
}

// openedTeacher is the teacher's networks and what identifies them for the cache: the member
// files (manifest paths) and the MD5s of the Keras weight files they were loaded from, by
// network; or, for networks that are not files (random weights), Key naming them. The teacher's
// units of work are cached steps only when Members or Key is set.
type openedTeacher struct {
	teacherrows.Nets
	Members []string
	Weights map[string]string
	Key     string
}

var realTeacher = teacherSource{Open: openTeacher}

// openTeacher loads the teacher when its files are present: the 25 member files of the data
// (ensemble.ReadMember, in member order 0…24) and the ResNet50 trunk to conv4_block4_out from the
// Keras weight file in weightsDir (-weights), else where Keras caches it ($KERAS_HOME/models,
// else ~/.keras/models; see imagenet.LoadResNet50); with them VGG19 to block4_pool when its
// weight file is there too. A weight file that is missing or corrupt makes its rows not
// runnable, recorded with kerasweights' message (its MD5 and how to get it); a member file that
// cannot be read is an error naming it.
func openTeacher(env *harness.Env, d *eval.Data, weightsDir string) (*openedTeacher, teacherStatus, error) {
	st, err := teacherFiles(env, d)
	if err != nil || len(st.MissingMembers) > 0 {
		return nil, st, err
	}
	_, trunk, err := imagenet.LoadResNet50(weightsDir, model.ResNet50Output, env.Log)
	if weightsMissing(d, weightsDir, err, kerasweights.ResNet50, "the ensemble teacher's trunk and ResNet50's rows") {
		st.Weights = err
		return nil, st, nil
	}
	if err != nil {
		return nil, st, fmt.Errorf("the teacher's trunk: %w", err)
	}
	members, err := env.Data.Match(memberPattern)
	if err != nil {
		return nil, st, err
	}
	sortMembers(members)
	t := &ensemblefit.Teacher{Trunk: trunk}
	for _, m := range members {
		p, err := env.Data.Path(m)
		if err != nil {
			return nil, st, err
		}
		_, g, err := ensemble.ReadMember(p, ensemble.MemberInput)
		if err != nil {
			return nil, st, err
		}
		t.Members = append(t.Members, g)
		t.Names = append(t.Names, m)
	}
	nets := &openedTeacher{
		Nets:    teacherrows.Nets{Teacher: t, Task: []teacherrows.TaskNet{{Name: "ResNet50", Net: trunk, Trunk: true}}},
		Members: members,
		Weights: map[string]string{"ResNet50": kerasweights.ResNet50.MD5},
	}
	_, vgg, err := imagenet.LoadVGG19(weightsDir, model.VGG19Output, env.Log)
	switch {
	case weightsMissing(d, weightsDir, err, kerasweights.VGG19, "VGG19's rows"):
		st.VGG19 = err
	case err != nil:
		return nil, st, fmt.Errorf("VGG19: %w", err)
	default:
		nets.Task = append(nets.Task, teacherrows.TaskNet{Name: "VGG19", Net: vgg})
		nets.Weights["VGG19"] = kerasweights.VGG19.MD5
	}
	return nets, st, nil
}

// weightsMissing reports whether err says that a Keras weight file is missing or corrupt, and
// then records it as not runnable (under weightsDir, else $KERAS_HOME/models) with what is lost.
func weightsMissing(d *eval.Data, weightsDir string, err error, f kerasweights.File, lost string) bool {
	var me *kerasweights.MissingError
	var ce *kerasweights.CorruptError
	if !errors.As(err, &me) && !errors.As(err, &ce) {
		return false
	}
	where := "$KERAS_HOME/models/" + f.Name
	if weightsDir != "" {
		where = filepath.Join(weightsDir, f.Name)
	}
	d.NotRunnable(where, lost+" are not computed: "+err.Error())
	return true
}

// sortMembers orders member files by their member number (ensemble_model_member<i>.keras), as
// upstream's load_models reads them.
func sortMembers(files []string) {
	num := func(f string) int {
		s := strings.TrimSuffix(strings.TrimPrefix(path.Base(f), "ensemble_model_member"), ".keras")
		i, err := strconv.Atoi(s)
		if err != nil {
			return -1
		}
		return i
	}
	slices.SortStableFunc(files, func(a, b string) int { return num(a) - num(b) })
}

// teacherFiles records every ensemble member file that is missing as not runnable (with its
// manifest SHA-1), and returns what is missing.
func teacherFiles(env *harness.Env, d *eval.Data) (teacherStatus, error) {
	var st teacherStatus
	members, err := env.Data.Match(memberPattern)
	if err != nil {
		return st, err
	}
	if len(members) == 0 {
		return st, fmt.Errorf("the manifest lists no %s", memberPattern)
	}
	st.Members = len(members)
	for _, m := range members {
		if !env.Data.Has(m) {
			st.MissingMembers = append(st.MissingMembers, m)
			d.NotRunnable(m, "the ensemble teacher (ResNet50 trunk + 25 members to layer4_add, ridge and factorized mappings) is not run: its own accuracy (Fig. 1b, C3's teacher side, C4's own comparison) is not computed")
		}
	}
	return st, nil
}

// teacherFigures names the figures drawn from the teacher's rows.
var teacherFigures = figVsTaskDriven + ", " + figMedians + " and " + figRidgeVsFactorize

// notRunnableRows describes the Fig. 1b rows that this experiment cannot compute, for the claims.
func (st teacherStatus) notRunnableRows() string {
	var b strings.Builder
	switch {
	case len(st.MissingMembers) > 0:
		fmt.Fprintf(&b, "teacher (ensemble), ResNet50 and VGG19, with ridge and factorized mappings, and the figures %s: not runnable, %d of %d member files missing (%s; SHA-1s in the not-runnable list); they also need the Keras weight files %s and %s (`replicate data fetch -weights`)",
			teacherFigures, len(st.MissingMembers), st.Members, memberPattern, weightFiles[0], weightFiles[1])
	case st.Weights != nil:
		fmt.Fprintf(&b, "teacher (ensemble), ResNet50 and VGG19, with ridge and factorized mappings, and the figures %s: the member files are present, but %v", teacherFigures, st.Weights)
	}
	return b.String() + "; " + otherRows()
}

// otherRows describes the Fig. 1b rows that are never computed here.
func otherRows() string {
	var parts []string
	for _, u := range unmappable {
		parts = append(parts, fmt.Sprintf("%s: not runnable, %s", u.Name, u.Reason))
	}
	return strings.Join(parts, "; ")
}

// remainingRows describes the rows not computed when the teacher ran (te: what it computed).
func remainingRows(st teacherStatus, te *teacherEval) string {
	s := "not computed: "
	if st.VGG19 != nil {
		s += fmt.Sprintf("VGG19 (ridge and factorized): %v; ", st.VGG19)
	}
	if te != nil && len(te.Sessions) == 0 {
		s += "the ridge rows (not in -mappings); "
	}
	if te != nil && len(te.Factorized) == 0 {
		s += "the factorized rows and the figure " + figRidgeVsFactorize + " (not in -mappings); "
	}
	return s + otherRows()
}
