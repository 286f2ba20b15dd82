"""Every bundled base's description (models/catalog.py) against its tokenizer: the turns render,
generation stops where an answer ends, and SFT's loss covers exactly the answer."""

import pytest
from datasets import Dataset
from trl import SFTConfig

from tooltune.data import read_records
from tooltune.inference import Sampling, generate_answers, stop_token_ids
from tooltune.models.catalog import BUNDLED, bundled_base_of, chat_format_of
from tooltune.models.load import load_model_and_tokenizer
from tooltune.training.datasets import sft_rows, target_text, training_messages
from tooltune.training.sft_loss import AnswerOnlySFTTrainer
from tooltune.weights import modelfile


def test_a_conversation_with_tools_renders_in_the_base_s_turns(bundled_tiny, small_data):
    name, folder = bundled_tiny
    model, tokenizer = load_model_and_tokenizer(folder)
    chat = BUNDLED[name].chat
    assert chat_format_of(tokenizer) is chat and bundled_base_of(model.config.model_type, model.config.vocab_size) is BUNDLED[name]
    record = read_records(small_data["train"])[0]
    messages = training_messages(record)
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": "ANSWER"}], tokenize=False)
    assert full.startswith(prompt) and full[len(prompt):].startswith("ANSWER" + chat.end_of_turn)  # the answer follows the prompt as is
    for message in messages:
        assert message["content"] in prompt  # the tool list and the request arrive whole
    assert tokenizer.pad_token == (chat.pad if chat.pad in tokenizer.get_vocab() else tokenizer.eos_token)
    assert tokenizer.convert_tokens_to_ids(chat.end_of_turn) in stop_token_ids(tokenizer)
    assert f'PARAMETER stop "{chat.end_of_turn}"' in modelfile("m.gguf", chat)
    answers = generate_answers(model, tokenizer, [messages], Sampling(max_new_tokens=4))
    assert len(answers) == 1 and chat.end_of_turn not in answers[0][0]


def test_sft_loss_covers_exactly_the_answer_and_its_end_of_turn(bundled_tiny, small_data, tmp_path):
    name, folder = bundled_tiny
    model, tokenizer = load_model_and_tokenizer(folder)
    chat = BUNDLED[name].chat
    records = read_records(small_data["train"])[:3]
    config = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=3, max_length=1024, completion_only_loss=True, report_to=[], use_cpu=True, bf16=False)
    trainer = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=Dataset.from_list(sft_rows(records)))
    for row, record in zip(trainer.train_dataset, records):
        answer = [t for t, label in zip(row["input_ids"], row["labels"]) if label != -100]
        text = tokenizer.decode(answer)
        assert text.startswith(target_text(record)) and text[len(target_text(record)):].strip() == chat.end_of_turn
        assert len(row["input_ids"]) > len(answer)
    marker = trainer._system_end()
    assert tokenizer.decode(marker).strip() == f"{chat.start_marker}user"  # where the shared tool list ends
    batch = next(iter(trainer.get_train_dataloader()))
    loss = trainer.compute_loss(model, dict(batch))
    assert loss.item() == pytest.approx(__import__("math").log(len(tokenizer)), rel=0.2)  # random weights: about uniform
