package org.paligemma4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PTB tokenization as the COCO caption evaluation uses it. Every expected string is what Stanford CoreNLP 3.4.1's
 * {@code PTBTokenizer -preserveLines -lowerCase} printed for the caption (the jar pycocoevalcap ships), with
 * pycocoevalcap's punctuation list then removed.
 */
class PtbTokenizerTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\0', textBlock = """
            A man riding a horse.                                   | a man riding a horse
            Dogs, cats; and birds!?                                 | dogs cats and birds !?
            wow!! what?! yes. no? maybe!                            | wow !! what ?! yes no maybe
            "Quoted" (text) [square] {curly}                        | quoted -lrb- text -rrb- -lsb- square -rsb- -lcb- curly -rcb-
            wait... hmm.. a - b -- a--b                             | wait hmm a b a b
            The dog's toy, isn't it?                                | the dog 's toy is n't it
            can't we're I'm cannot won't ain't                      | ca n't we 're i 'm can not wo n't ai n't
            the dogs' bowl and the 'best' cake                      | the dogs bowl and the best cake
            1,000 people 3.5 t-shirt 10:30 '90s o'clock             | 1,000 people 3.5 t-shirt 10:30 '90s o'clock
            a U.S. flag at 3 p.m. e.g. no. oz.                      | a u.s. flag at 3 p.m. e.g. no oz
            Mr. Smith and Dr. Who etc.                              | mr. smith and dr. who etc.
            Mt. Fuji behind St. Mark's Church.                      | mt. fuji behind st. mark 's church
            50% off $5 #1 @home                                     | 50 % off $ 5 # 1 @home
            gonna gotta wanna gimme lemme                           | gon na got ta wan na gim me lem me
            a dog,cat and bird.the end                              | a dog cat and bird.the end
            A plate of food: rice, beans, and chicken.              | a plate of food rice beans and chicken
            There's a dog that's catching a frisbee in mid-air.     | there 's a dog that 's catching a frisbee in mid-air
            """)
    void tokensAsTheCocoEvaluationSeesThem(String caption, String expected) {
        assertEquals(expected.strip(), PtbTokenizer.tokenizeToString(caption.strip()));
    }
}
