package teacherfit

import (
	"fmt"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
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

// notRunnableRows describes the Fig. 1b rows that this experiment cannot compute, for the claims.
func (st teacherStatus) notRunnableRows() string {
	var b strings.Builder
	if len(st.MissingMembers) > 0 {
		fmt.Fprintf(&b, "teacher (ensemble + ridge/factorized mappings): not runnable, %d of %d member files missing (%s; SHA-1s in the not-runnable list); it also needs the Keras weight file %s (`replicate data fetch -weights`)",
			len(st.MissingMembers), st.Members, memberPattern, weightFiles[0])
	} else {
		fmt.Fprintf(&b, "teacher (ensemble + ridge/factorized mappings): the member files are present; running them with the Keras weight file %s (`replicate data fetch -weights`) is not wired into this experiment yet", weightFiles[0])
	}
	fmt.Fprintf(&b, "; ResNet50 and VGG19 + mappings: not run, they need %s and %s (`replicate data fetch -weights`)", weightFiles[0], weightFiles[1])
	for _, u := range unmappable {
		fmt.Fprintf(&b, "; %s: not runnable, %s", u.Name, u.Reason)
	}
	return b.String()
}
