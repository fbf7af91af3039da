# The judge as a served endpoint: CompassJudger (or any judge) behind an OpenAI-compatible server on the cluster,
# so evaluation steps reserve no judge GPUs (INFOSIFT_CELL_RESOURCES judge.num_gpus = 0, the default) and every
# evaluation of the grid shares one judge. Start the server on a GPU node, e.g. with 4 GPUs:
#     lmdeploy serve api_server opencompass/CompassJudger-1-32B-Instruct --tp 4 --server-port 23333
#     vllm serve opencompass/CompassJudger-1-32B-Instruct --tensor-parallel-size 4 --port 23333
#         (across nodes: --distributed-executor-backend ray on a Ray cluster started with `ray start`)
# then point INFOSIFT_JUDGE_URL at it (http://judge-node:23333/v1). Subjective configs import `judge_models`.
import os

from opencompass.models import OpenAISDK

judge_models = [
    dict(
        type=OpenAISDK,
        abbr='CompassJudger-1-32B-Instruct',
        path=os.environ.get('INFOSIFT_JUDGE_MODEL', 'opencompass/CompassJudger-1-32B-Instruct'),
        openai_api_base=os.environ.get('INFOSIFT_JUDGE_URL', 'http://127.0.0.1:23333/v1'),
        key='EMPTY',  # local lmdeploy / vLLM servers take any key
        query_per_second=16,
        max_out_len=2048,
        max_seq_len=16384,
        batch_size=16,
        temperature=0.0,
    ),
]
