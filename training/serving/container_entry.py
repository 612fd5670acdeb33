"""The script the scikit-learn serving container runs (SAGEMAKER_PROGRAM): the serving artifact
holds it as code/ntm_text_serving.py beside the `training` packages it imports.

The container imports it after `pip install`ing the code folder (sagemaker-containers
`_modules.import_module`); the model folder's own copy of the code is put first on the path, so
the packages come from this dataset's artifact whatever the installer copied.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"), "code"))

from sagemaker_containers.beta.framework import errors  # noqa: E402  (in the serving image only)

from training.serving import handler  # noqa: E402
from training.serving.text_requests import UnsupportedContentType  # noqa: E402

model_fn = handler.model_fn
predict_fn = handler.predict_fn
output_fn = handler.output_fn


def input_fn(body, content_type):
    """An unknown content type answers 415 (UnsupportedFormatError) instead of a server error."""
    try:
        return handler.input_fn(body, content_type)
    except UnsupportedContentType as error:
        raise errors.UnsupportedFormatError(error.content_type) from error
