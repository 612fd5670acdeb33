"""The script the scikit-learn serving container runs (SAGEMAKER_PROGRAM): the serving artifact
holds it as code/ntm_text_serving.py beside the `training` packages it imports.

The container imports it after `pip install`ing the code folder (sagemaker-containers
`_modules.import_module`); the model folder's own copy of the code is put first on the path, so
the packages come from this dataset's artifact whatever the installer copied.

Any exception of these functions reaches the caller as a server error (the library wraps user
functions' errors in its ClientError, which Flask answers with 500; SageMaker returns ModelError):
callers that need a message per document validate before sending (ntm_client does).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"), "code"))

from training.serving.handler import input_fn, model_fn, output_fn, predict_fn  # noqa: E402,F401
