"""The ECR accounts that serve SageMaker's built-in images, per region.

Figures from the sagemaker Python SDK's bundled image tables (image_uri_config/ntm.json, knn.json
and sklearn.json, scikit-learn 1.2-1); tests/infra/test_images.py checks them against the installed
SDK so a new region is noticed. The URL suffix is the partition's (AWS::URLSuffix), which is
amazonaws.com.cn in the China regions, as the SDK has it.
"""

NTM_REPOSITORY = "ntm:1"
# k-NN is served from the NTM account in every region (the SDK's knn.json lists the same accounts).
KNN_REPOSITORY = "knn:1"
SKLEARN_REPOSITORY = "sagemaker-scikit-learn:1.2-1-cpu-py3"

# region: (NTM account, scikit-learn account)
REGISTRY_ACCOUNTS: dict[str, tuple[str, str]] = {
    "af-south-1": ("455444449433", "510948584623"),
    "ap-east-1": ("286214385809", "651117190479"),
    "ap-northeast-1": ("351501993468", "354813040037"),
    "ap-northeast-2": ("835164637446", "366743142698"),
    "ap-northeast-3": ("867004704886", "867004704886"),
    "ap-south-1": ("991648021394", "720646828776"),
    "ap-south-2": ("628508329040", "628508329040"),
    "ap-southeast-1": ("475088953585", "121021644041"),
    "ap-southeast-2": ("712309505854", "783357654285"),
    "ap-southeast-3": ("951798379941", "951798379941"),
    "ap-southeast-4": ("106583098589", "106583098589"),
    "ca-central-1": ("469771592824", "341280168497"),
    "ca-west-1": ("190319476487", "190319476487"),
    "cn-north-1": ("390948362332", "450853457545"),
    "cn-northwest-1": ("387376663083", "451049120500"),
    "eu-central-1": ("664544806723", "492215442770"),
    "eu-central-2": ("680994064768", "680994064768"),
    "eu-north-1": ("669576153137", "662702820516"),
    "eu-south-1": ("257386234256", "978288397137"),
    "eu-south-2": ("104374241257", "104374241257"),
    "eu-west-1": ("438346466558", "141502667606"),
    "eu-west-2": ("644912444149", "764974769150"),
    "eu-west-3": ("749696950732", "659782779980"),
    "il-central-1": ("898809789911", "898809789911"),
    "me-central-1": ("272398656194", "272398656194"),
    "me-south-1": ("249704162688", "801668240914"),
    "sa-east-1": ("855470959533", "737474898029"),
    "us-east-1": ("382416733822", "683313688378"),
    "us-east-2": ("404615174143", "257758044811"),
    "us-gov-east-1": ("237065988967", "237065988967"),
    "us-gov-west-1": ("226302683700", "414596584902"),
    "us-iso-east-1": ("490574956308", "833128469047"),
    "us-isob-east-1": ("765400339828", "281123927165"),
    "us-isof-east-1": ("108575199400", "108575199400"),
    "us-isof-south-1": ("124985052026", "124985052026"),
    "us-west-1": ("632365934929", "746614075791"),
    "us-west-2": ("174872318107", "246618743249"),
}
