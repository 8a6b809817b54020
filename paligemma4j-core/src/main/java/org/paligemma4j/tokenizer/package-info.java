/**
 * PaliGemma's tokenizer in pure Java: SentencePiece BPE exactly as {@code sentencepiece} encodes and decodes
 * with Gemma's settings, read from {@code tokenizer.model} (or a Hugging Face {@code tokenizer.json}).
 *
 * <p>The public API is {@link org.paligemma4j.tokenizer.Tokenizer} (load, encode, decode, special and
 * location/segmentation ids) and {@link org.paligemma4j.tokenizer.StreamingDecoder}; everything else is
 * package-private. How it works, file by file: {@code ProtoReader} reads the protobuf wire format with bounds
 * checks, {@code SentencePieceModelReader} turns a ModelProto into pieces, {@code Vocabulary} and
 * {@code PieceIndex} look pieces up by bytes, {@code PrefixTrie} finds USER_DEFINED pieces,
 * {@code BpeMerger} merges pairs with a priority queue, {@code MergeBarrier} cuts the text where no merge can
 * reach across, {@code SentencePieceEncoder} and {@code HfBpeEncoder} tie these together per file format.
 */
package org.paligemma4j.tokenizer;
