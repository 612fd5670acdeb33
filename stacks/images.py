"""The built-in SageMaker images this pipeline runs, resolved for the stack's region at deploy time."""

from __future__ import annotations

from aws_cdk import Aws, CfnMapping, Fn
from constructs import Construct

from stacks.image_registries import KNN_REPOSITORY, NTM_REPOSITORY, REGISTRY_ACCOUNTS, SKLEARN_REPOSITORY


class ImageRegistry(Construct):
    """A region -> ECR account mapping; an unsupported region fails the deployment, not a job."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._mapping = CfnMapping(
            self,
            "Accounts",
            mapping={region: {"ntm": ntm, "sklearn": sklearn} for region, (ntm, sklearn) in REGISTRY_ACCOUNTS.items()},
        )

    def _uri(self, image: str, repository: str) -> str:
        account = self._mapping.find_in_map(Aws.REGION, image)
        return Fn.join("", [account, ".dkr.ecr.", Aws.REGION, ".", Aws.URL_SUFFIX, "/", repository])

    @property
    def ntm_image(self) -> str:
        return self._uri("ntm", NTM_REPOSITORY)

    @property
    def knn_image(self) -> str:
        return self._uri("ntm", KNN_REPOSITORY)

    @property
    def sklearn_image(self) -> str:
        return self._uri("sklearn", SKLEARN_REPOSITORY)

    def repository_arns(self) -> list[str]:
        return [
            Fn.join("", ["arn:", Aws.PARTITION, ":ecr:", Aws.REGION, ":", self._mapping.find_in_map(Aws.REGION, image),
                         ":repository/", repository.split(":")[0]])
            for image, repository in (("ntm", NTM_REPOSITORY), ("ntm", KNN_REPOSITORY), ("sklearn", SKLEARN_REPOSITORY))
        ]
