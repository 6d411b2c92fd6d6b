"""MLflow's models-from-code entry point for the Amanah pyfunc.

MLflow runs this file when it loads a logged model, instead of unpickling an object
(`log_training` passes this path as `python_model`): a model version then depends on code
that can be read, not on a pickle of whatever the class looked like when it was logged.
"""

from mlflow.models import set_model

from models.registry import AmanahPyfunc

set_model(AmanahPyfunc())
