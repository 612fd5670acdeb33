"""Run inside the serving environment (tests/container/test_serving_handler.py): load the serving
artifact's own entry script into sagemaker-containers' Transformer and Worker, as the scikit-learn
container's `serving.main` does, and answer the requests given as JSON on stdin through the Flask
test client (`POST /invocations`). Prints one JSON answer per request.

    PYTHONPATH=MODEL_DIR/code python serve_worker.py MODEL_DIR < requests.json
"""

import base64
import importlib
import json
import os
import sys

model_dir = sys.argv[1]
os.environ["SM_MODEL_DIR"] = model_dir
# The container's base folder (/opt/ml) stands here beside the model folder.
os.environ["SAGEMAKER_BASE_DIR"] = os.path.dirname(model_dir)
os.environ["SAGEMAKER_PROGRAM"] = "ntm_text_serving.py"
os.environ["SAGEMAKER_SUBMIT_DIRECTORY"] = os.path.join(model_dir, "code")

from sagemaker_containers.beta.framework import env, transformer, worker  # noqa: E402

serving_env = env.ServingEnv()
# sklearn's serving.import_module: the model's PYTHONPATH (the code folder, given by the test as the
# container's environment) makes the script importable as it is, so the library never pip-installs it.
user_module = importlib.import_module(serving_env.module_name)
user_transformer = transformer.Transformer(model_fn=user_module.model_fn, input_fn=user_module.input_fn,
                                           predict_fn=user_module.predict_fn, output_fn=user_module.output_fn)
user_transformer.initialize()
app = worker.Worker(transform_fn=user_transformer.transform, module_name=serving_env.module_name)
client = app.test_client()

answers = [{"module_name": serving_env.module_name, "module_dir": serving_env.module_dir,
            "default_accept": serving_env.default_accept, "python": sys.version.split()[0]}]
for request in json.load(sys.stdin):
    headers = {"Content-Type": request["content_type"]}
    if request.get("accept"):
        headers["Accept"] = request["accept"]
    response = client.post("/invocations", data=base64.b64decode(request["body"]), headers=headers)
    answers.append({"status": response.status_code, "content_type": response.headers.get("Content-Type"),
                    "body": base64.b64encode(response.get_data()).decode()})
print(json.dumps(answers))
