"""The qa JSON API with `requests`: cited passages for two questions, one of them filtered.

QA_URL defaults to http://127.0.0.1:7860; with `qa serve --auth USER:PASSWORD` set QA_AUTH=USER:PASSWORD.
"""

import os

import requests

url = os.environ.get("QA_URL", "http://127.0.0.1:7860")
user, _, password = os.environ.get("QA_AUTH", "").partition(":")
auth = (user, password) if user else None

health = requests.get(f"{url}/api/v1/health", auth=auth, timeout=10)
health.raise_for_status()
print("index:", health.json()["documents"], "documents,", health.json()["passages"], "passages")

response = requests.post(
    f"{url}/api/v1/search",
    json={
        "questions": ["How many US soldiers died in May?", "Who was nominated prime minister?"],
        "k": 3,
        "filters": {"type": ["txt"]},
    },
    auth=auth,
    timeout=60,
)
response.raise_for_status()
for answer in response.json()["answers"]:
    print(answer["id"], answer["question"], "" if answer["answered"] else "(no relevant passage)")
    for passage in answer["passages"]:
        print("  ", passage["citation"], f"score {passage['score']:.3f}")
        print("     ", passage["text"][:100].replace("\n", " "))
